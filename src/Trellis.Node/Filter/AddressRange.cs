using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Node.Filter;

/// <summary>
/// An inclusive range of addresses of one family, as the number an address reads as big-endian
/// (IPv4 in the low 32 bits): what a CIDR prefix becomes so a packet is matched by comparison.
/// </summary>
internal readonly record struct AddressRange(bool IsV6, UInt128 First, UInt128 Last)
{
    /// <summary>Everything the server may name as "any" in a filter, beside 0.0.0.0/0 and ::/0.</summary>
    public const string Wildcard = "*";

    public bool Contains(UInt128 address) => address >= First && address <= Last;

    /// <summary>
    /// Reads "a.b.c.d/n", "x::/n" or a bare address (a single host). Host bits are ignored, so
    /// "10.0.0.5/24" is 10.0.0.0/24. "*" yields both families whole.
    /// </summary>
    public static bool TryParse(string text, List<AddressRange> into)
    {
        var trimmed = text.AsSpan().Trim();
        if (trimmed.SequenceEqual(Wildcard))
        {
            into.Add(new AddressRange(false, 0, uint.MaxValue));
            into.Add(new AddressRange(true, 0, UInt128.MaxValue));
            return true;
        }

        var slash = trimmed.IndexOf('/');
        var addressText = slash < 0 ? trimmed : trimmed[..slash];
        if (!IPAddress.TryParse(addressText, out var address) || address.IsIPv4MappedToIPv6)
        {
            return false;
        }

        var isV6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        if (isV6 && address.ScopeId != 0)
        {
            return false;
        }

        var bits = isV6 ? 128 : 32;
        var length = bits;
        if (slash >= 0 && (!int.TryParse(trimmed[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length) || length > bits))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        UInt128 value = isV6 ? BinaryPrimitives.ReadUInt128BigEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes[..written]);
        var hostBits = bits - length;
        var hostMask = hostBits == 0 ? UInt128.Zero : hostBits == 128 ? UInt128.MaxValue : (UInt128.One << hostBits) - 1;
        into.Add(new AddressRange(isV6, value & ~hostMask, value | hostMask));
        return true;
    }
}
