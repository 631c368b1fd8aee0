using System.Buffers.Binary;
using System.Net;

namespace Trellis.WireGuard.Tests;

/// <summary>Builds minimal IPv4/IPv6 packets for the in-memory devices.</summary>
internal static class Packets
{
    public static byte[] Build(string source, string destination, int payloadLength = 64, byte fill = 0xab)
    {
        var src = IPAddress.Parse(source).GetAddressBytes();
        var dst = IPAddress.Parse(destination).GetAddressBytes();
        if (src.Length == 4)
        {
            var p = new byte[20 + payloadLength];
            p[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
            p[8] = 64;
            p[9] = 17;
            src.CopyTo(p, 12);
            dst.CopyTo(p, 16);
            p.AsSpan(20).Fill(fill);
            return p;
        }

        var q = new byte[40 + payloadLength];
        q[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(4), (ushort)payloadLength);
        q[6] = 17;
        q[7] = 64;
        src.CopyTo(q, 8);
        dst.CopyTo(q, 24);
        q.AsSpan(40).Fill(fill);
        return q;
    }
}
