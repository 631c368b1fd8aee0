using System.Buffers.Binary;
using System.Net;

namespace Trellis.Node.Tests.Engine;

/// <summary>Minimal IPv4/IPv6 packets (protocol UDP, no valid UDP header needed) for in-memory TUNs.</summary>
internal static class IPPackets
{
    public static byte[] Udp(string source, string destination, int payloadLength)
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
            p.AsSpan(20).Fill(0x5a);
            return p;
        }

        var q = new byte[40 + payloadLength];
        q[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(q.AsSpan(4), (ushort)payloadLength);
        q[6] = 17;
        q[7] = 64;
        src.CopyTo(q, 8);
        dst.CopyTo(q, 24);
        q.AsSpan(40).Fill(0x5a);
        return q;
    }
}
