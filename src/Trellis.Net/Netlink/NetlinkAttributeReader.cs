using System.Net;
using System.Runtime.InteropServices;
using System.Text;

namespace Trellis.Net.Netlink;

/// <summary>
/// Walks a run of netlink attributes (type-length-value, each 4-byte aligned). Usage:
/// <c>while (reader.MoveNext()) switch (reader.Type) { ... reader.Value ... }</c>.
/// A truncated attribute ends the walk rather than throwing: what came before it is still good.
/// </summary>
internal ref struct NetlinkAttributeReader
{
    private const int HeaderSize = 4;

    private ReadOnlySpan<byte> _rest;

    public NetlinkAttributeReader(ReadOnlySpan<byte> attributes)
    {
        _rest = attributes;
        Type = 0;
        Value = default;
    }

    /// <summary>The attribute type without the nested and byte-order flag bits.</summary>
    public ushort Type { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    public bool MoveNext()
    {
        if (_rest.Length < HeaderSize)
        {
            return false;
        }

        var length = MemoryMarshal.Read<ushort>(_rest);
        if (length < HeaderSize || length > _rest.Length)
        {
            _rest = default;
            return false;
        }

        Type = (ushort)(MemoryMarshal.Read<ushort>(_rest[2..]) & Rtnl.NLA_TYPE_MASK);
        Value = _rest[HeaderSize..length];
        _rest = _rest[Math.Min(NetlinkWriter.Align(length), _rest.Length)..];
        return true;
    }

    public readonly NetlinkAttributeReader Nested() => new(Value);

    public readonly uint UInt32() => Value.Length >= sizeof(uint) ? MemoryMarshal.Read<uint>(Value) : 0;

    /// <summary>A string attribute, without its terminating NUL.</summary>
    public readonly string String()
    {
        var end = Value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? Value : Value[..end]);
    }

    /// <summary>An address attribute (4 or 16 bytes); null for any other length.</summary>
    public readonly IPAddress? Address() => Value.Length is 4 or 16 ? new IPAddress(Value) : null;
}
