using System.Net;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Trellis.Net.Netlink;

/// <summary>
/// Builds one request in a caller's buffer: the netlink header, the family header, then attributes,
/// each starting on a 4-byte boundary. The header's length is filled in by <see cref="Finish"/>.
/// </summary>
internal ref struct NetlinkWriter
{
    private const int AttributeHeaderSize = 4;

    private readonly Span<byte> _buffer;
    private int _length;

    public NetlinkWriter(Span<byte> buffer, ushort type, ushort flags)
    {
        _buffer = buffer;
        _length = 0;
        Reserve(NlMsgHdr.Size);
        MemoryMarshal.Write(_buffer, new NlMsgHdr { Type = type, Flags = (ushort)(flags | Rtnl.NLM_F_REQUEST) });
    }

    /// <summary>Appends the zeroed family header (ifinfomsg, ifaddrmsg, rtmsg) and returns it to fill in.</summary>
    public ref T Header<T>()
        where T : unmanaged
    {
        return ref MemoryMarshal.AsRef<T>(Reserve(Unsafe.SizeOf<T>()));
    }

    public void Attribute(ushort type, scoped ReadOnlySpan<byte> value)
    {
        var start = _length;
        Reserve(AttributeHeaderSize + value.Length);
        WriteAttributeHeader(start, type, AttributeHeaderSize + value.Length);
        value.CopyTo(_buffer[(start + AttributeHeaderSize)..]);
    }

    public void UInt32(ushort type, uint value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(uint)];
        MemoryMarshal.Write(bytes, in value); // netlink integers are in host order
        Attribute(type, bytes);
    }

    /// <summary>A NUL-terminated string, as the kernel's NLA_STRING/NLA_NUL_STRING policies accept.</summary>
    public void String(ushort type, string value)
    {
        Span<byte> bytes = stackalloc byte[Encoding.UTF8.GetMaxByteCount(value.Length) + 1];
        var n = Encoding.UTF8.GetBytes(value, bytes);
        bytes[n] = 0;
        Attribute(type, bytes[..(n + 1)]);
    }

    /// <summary>An address in network order: 4 bytes for IPv4, 16 for IPv6.</summary>
    public void Address(ushort type, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var n))
        {
            throw new ArgumentException($"cannot encode address {address}", nameof(address));
        }

        Attribute(type, bytes[..n]);
    }

    /// <summary>Opens a nested attribute; attributes written until <see cref="EndNested"/> go inside it.</summary>
    public int BeginNested(ushort type)
    {
        var start = _length;
        Reserve(AttributeHeaderSize);
        WriteAttributeHeader(start, (ushort)(type | Rtnl.NLA_F_NESTED), 0);
        return start;
    }

    public readonly void EndNested(int start)
    {
        MemoryMarshal.Write(_buffer[start..], (ushort)(_length - start));
    }

    /// <summary>Stamps the length and returns the finished message; the socket stamps the sequence number when it sends.</summary>
    public readonly Span<byte> Finish()
    {
        MemoryMarshal.AsRef<NlMsgHdr>(_buffer).Length = (uint)_length;
        return _buffer[.._length];
    }

    private readonly void WriteAttributeHeader(int at, ushort type, int length)
    {
        MemoryMarshal.Write(_buffer[at..], (ushort)length);
        MemoryMarshal.Write(_buffer[(at + 2)..], type);
    }

    /// <summary>Claims <paramref name="size"/> bytes plus padding to the next 4-byte boundary, zeroed.</summary>
    private Span<byte> Reserve(int size)
    {
        var aligned = Align(size);
        if (_length + aligned > _buffer.Length)
        {
            throw new InvalidOperationException($"netlink request exceeds its {_buffer.Length}-byte buffer");
        }

        var span = _buffer.Slice(_length, aligned);
        span.Clear();
        _length += aligned;
        return span[..size];
    }

    public static int Align(int length) => (length + 3) & ~3;
}
