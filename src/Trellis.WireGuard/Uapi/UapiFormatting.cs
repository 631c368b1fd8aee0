using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Text;
using Trellis.Core.Transport;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// Addresses written as Go's netip writes them (RFC 5952, IPv4-mapped as <c>::ffff:a.b.c.d</c>), so a
/// get reads byte for byte like wireguard-go's; .NET's own formatting differs on embedded IPv4.
/// </summary>
internal static class UapiFormatting
{
    public static StringBuilder AppendAddress(this StringBuilder sb, IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        return sb.AppendAddress(bytes[..written]);
    }

    /// <param name="address">4 bytes (IPv4) or 16 bytes (IPv6), network order.</param>
    public static StringBuilder AppendAddress(this StringBuilder sb, ReadOnlySpan<byte> address)
    {
        if (address.Length == 4)
        {
            return sb.AppendDottedQuad(address);
        }

        if (address[..10].IndexOfAnyExcept((byte)0) < 0 && address[10] == 0xff && address[11] == 0xff)
        {
            return sb.Append("::ffff:").AppendDottedQuad(address[12..]);
        }

        Span<ushort> groups = stackalloc ushort[8];
        for (var i = 0; i < 8; i++)
        {
            groups[i] = BinaryPrimitives.ReadUInt16BigEndian(address[(2 * i)..]);
        }

        // The longest run of two or more zero groups (the first on a tie) becomes "::".
        int zeroStart = -1, zeroEnd = -1;
        for (var i = 0; i < 8; i++)
        {
            var j = i;
            while (j < 8 && groups[j] == 0)
            {
                j++;
            }

            if (j - i >= 2 && j - i > zeroEnd - zeroStart)
            {
                zeroStart = i;
                zeroEnd = j;
            }
        }

        for (var i = 0; i < 8; i++)
        {
            if (i == zeroStart)
            {
                sb.Append("::");
                i = zeroEnd;
                if (i >= 8)
                {
                    break;
                }
            }
            else if (i > 0)
            {
                sb.Append(':');
            }

            sb.Append(groups[i].ToString("x", CultureInfo.InvariantCulture));
        }

        return sb;
    }

    /// <summary><c>a.b.c.d:port</c> or <c>[ipv6%scope]:port</c>, as netip.AddrPort prints (the scope as its index).</summary>
    public static StringBuilder AppendEndpoint(this StringBuilder sb, Endpoint endpoint)
    {
        Span<byte> bytes = stackalloc byte[16];
        if (endpoint.IsIPv4)
        {
            endpoint.WriteAddress4(bytes);
            sb.AppendAddress(bytes[..4]);
        }
        else
        {
            endpoint.WriteAddress16(bytes);
            sb.Append('[').AppendAddress(bytes);
            if (endpoint.ScopeId != 0)
            {
                sb.Append('%').Append(endpoint.ScopeId.ToString(CultureInfo.InvariantCulture));
            }

            sb.Append(']');
        }

        return sb.Append(':').Append(endpoint.Port.ToString(CultureInfo.InvariantCulture));
    }

    private static StringBuilder AppendDottedQuad(this StringBuilder sb, ReadOnlySpan<byte> address) =>
        sb.Append(address[0].ToString(CultureInfo.InvariantCulture)).Append('.')
          .Append(address[1].ToString(CultureInfo.InvariantCulture)).Append('.')
          .Append(address[2].ToString(CultureInfo.InvariantCulture)).Append('.')
          .Append(address[3].ToString(CultureInfo.InvariantCulture));
}
