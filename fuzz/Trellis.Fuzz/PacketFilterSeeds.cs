using System.Buffers.Binary;
using Trellis.Core.Control;
using Trellis.Fuzz.Targets;
using static Trellis.Fuzz.Targets.IpPacketWriter;
using static Trellis.Fuzz.Targets.PacketFilterTarget;

namespace Trellis.Fuzz;

/// <summary>
/// The packet filter's seeds: packets a peer's stack really sends, some granted by
/// <see cref="PacketFilterTarget.Policy"/> or answering the node's own flows, and the shapes the
/// filter must refuse (cut inside a header, a chain of extension headers too long, an early later
/// fragment, lengths that lie). The name says which.
/// </summary>
public static class PacketFilterSeeds
{
    private const int TooManyExtensionHeaders = 9;

    // An extension header claiming 200 x 8 bytes, in a packet far shorter.
    private const int ExtensionUnitsBeyondPacket = 200;

    public static IEnumerable<(string Name, byte[] Packet)> All()
    {
        var sshSyn = Tcp(51000, SshPort, TcpSyn);

        // Granted by a rule.
        yield return ("granted-tcp-syn-ssh-v4", V4(Peer4, Node4, IpProtocols.Tcp, sshSyn));
        yield return ("granted-tcp-ssh-v4-with-ip-options", V4(Peer4, Node4, IpProtocols.Tcp, Tcp(51000, SshPort, TcpAck, "SSH-2.0-OpenSSH_9.2\r\n"u8), options: [1, 1, 1, 0]));
        yield return ("granted-tcp-syn-ssh-v6-hop-by-hop-fragment", V6(Peer6, Node6, 0,
            [.. Extension(44), .. Fragment(IpProtocols.Tcp, 0), .. sshSyn]));
        yield return ("granted-udp-app-port-range-v4", V4(Server4, Node4, IpProtocols.Udp, Udp(5353, 8053, "query"u8)));
        yield return ("granted-udp-app-port-range-v6-destination-options", V6(Server6, Node6, 60,
            [.. Extension(IpProtocols.Udp, 2), .. Udp(5353, AppLastPort, "query"u8)]));
        yield return ("granted-icmp-echo-request", V4(Stranger4, Node4, IpProtocols.Icmp, Echo(8, 0x0777, 1)));
        yield return ("granted-icmpv6-echo-request", V6("2001:db8::5", Node6, IpProtocols.IcmpV6, Echo(128, 0x0777, 1)));
        yield return ("granted-gre-to-subnet", V4(Peer4, SubnetHost, IpProtocols.Gre, new byte[24]));
        yield return ("granted-sctp-to-subnet", V4(Peer4, SubnetHost, IpProtocols.Sctp, new byte[28]));
        yield return ("granted-ipv4-later-fragment", V4(Stranger4, Node4, IpProtocols.Tcp, new byte[64], fragmentOffsetBlocks: 185));

        // Replies to the node's own flows.
        yield return ("reply-tcp-syn-ack", V4(Server4, Node4, IpProtocols.Tcp, Tcp(443, OwnTcpPort, TcpSyn | TcpAck)));
        yield return ("reply-udp-dns-v6", V6(Server6, Node6, IpProtocols.Udp, Udp(53, OwnDnsPort, new byte[61])));
        yield return ("reply-icmp-echo", V4(Server4, Node4, IpProtocols.Icmp, Echo(0, OwnEchoId, 1)));
        yield return ("reply-icmpv6-echo", V6(Server6, Node6, IpProtocols.IcmpV6, Echo(129, OwnEchoId, 1)));
        yield return ("reply-icmp-port-unreachable", V4(Server4, Node4, IpProtocols.Icmp, Error(3, 3, OwnPackets[1].AsSpan(0, 28))));
        yield return ("reply-icmpv6-port-unreachable", V6(Server6, Node6, IpProtocols.IcmpV6, Error(1, 4, OwnPackets[3].AsSpan(0, 48))));

        // Refused.
        yield return ("refused-tcp-syn-ssh-from-stranger", V4(Stranger4, Node4, IpProtocols.Tcp, sshSyn));
        yield return ("refused-tcp-syn-telnet", V4(Peer4, Node4, IpProtocols.Tcp, Tcp(51000, 23, TcpSyn)));
        yield return ("refused-udp-below-app-ports", V4(Server4, Node4, IpProtocols.Udp, Udp(51000, AppFirstPort - 1, "x"u8)));
        yield return ("refused-tcp-reply-to-no-flow", V4(Server4, Node4, IpProtocols.Tcp, Tcp(443, OwnTcpPort + 1, TcpSyn | TcpAck)));
        yield return ("refused-tcp-header-cut", V4(Peer4, Node4, IpProtocols.Tcp, sshSyn.AsSpan(0, 12)));
        yield return ("refused-udp-header-cut-v6", V6(Peer6, Node6, IpProtocols.Udp, Udp(5353, AppFirstPort, []).AsSpan(0, 4)));
        yield return ("refused-icmp-header-cut", V4(Stranger4, Node4, IpProtocols.Icmp, Echo(8, 1, 1).AsSpan(0, 6)));
        yield return ("refused-icmpv6-in-ipv4", V4(Stranger4, Node4, IpProtocols.IcmpV6, Echo(128, 1, 1)));
        yield return ("refused-icmp-error-about-unknown-flow", V4(Server4, Node4, IpProtocols.Icmp, Error(3, 3,
            V4(Node4, Server4, IpProtocols.Udp, Udp(40404, 9, [])).AsSpan(0, 28))));
        yield return ("refused-icmp-echo-reply-unknown-id", V4(Server4, Node4, IpProtocols.Icmp, Echo(0, 0x4321, 1)));
        yield return ("refused-ipv4-early-later-fragment", V4(Peer4, Node4, IpProtocols.Tcp, new byte[64], fragmentOffsetBlocks: 1));
        yield return ("refused-ipv6-fragment-header-cut", V6(Peer6, Node6, 44, Fragment(IpProtocols.Tcp, 0).AsSpan(0, 6)));
        yield return ("refused-ipv6-extension-length-overrun", V6(Peer6, Node6, 0, [.. Extension(IpProtocols.Tcp, ExtensionUnitsBeyondPacket).AsSpan(0, 8), .. sshSyn]));

        var chain = new List<byte>();
        for (var i = 0; i < TooManyExtensionHeaders; i++)
        {
            chain.AddRange(Extension(i == TooManyExtensionHeaders - 1 ? IpProtocols.Tcp : 60));
        }

        yield return ("refused-ipv6-nine-extension-headers", V6(Peer6, Node6, 60, [.. chain, .. sshSyn]));

        var lying = V4(Peer4, Node4, IpProtocols.Tcp, sshSyn);
        BinaryPrimitives.WriteUInt16BigEndian(lying.AsSpan(2), (ushort)(lying.Length + 100));
        yield return ("refused-ipv4-total-length-beyond-packet", lying);
        var shortHeader = V4(Peer4, Node4, IpProtocols.Tcp, sshSyn);
        shortHeader[0] = 0x44;
        yield return ("refused-ipv4-header-length-16", shortHeader);
        yield return ("refused-not-ip", [0x50, .. new byte[39]]);
        yield return ("refused-empty", []);
    }

    public static void Write(string directory)
    {
        Directory.CreateDirectory(directory);
        foreach (var (name, packet) in All())
        {
            File.WriteAllBytes(Path.Combine(directory, name), packet);
        }
    }
}
