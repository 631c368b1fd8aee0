using Trellis.Core.Control;
using Trellis.Node.Filter;
using static Trellis.Fuzz.Targets.IpPacketWriter;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// A decrypted packet from a peer into the node's inbound filter (<see cref="StatefulPacketFilter.Allows"/>)
/// under a policy with IPv4 and IPv6 rules (single ports, a port range, protocol lists, a served
/// subnet) and with flows this node opened, so replies and quoted ICMP errors reach the flow table.
/// The same bytes then go through <see cref="StatefulPacketFilter.RecordOutbound"/> of a second
/// filter, as a packet this node sends. Both run on every packet of the data path, so besides
/// throwing, allocating is a crash too. Returns whether the inbound filter let the packet in.
/// </summary>
public static class PacketFilterTarget
{
    public const string Node4 = "100.64.0.1";
    public const string Node6 = "fd7a:7472:6c6c::1";
    public const string Peer4 = "100.64.0.2";
    public const string Peer6 = "fd7a:7472:6c6c::2";

    /// <summary>
    /// A node this one opened flows to; no rule grants it ICMP or these ports, so its replies pass only
    /// through the flow table.
    /// </summary>
    public const string Server4 = "100.64.0.9";
    public const string Server6 = "fd7a:7472:6c6c::9";

    /// <summary>A node in the overlay that no per-peer rule names.</summary>
    public const string Stranger4 = "100.64.0.77";

    /// <summary>Hosts that may ping this node (and no more): the peer's ICMP reaches it only as replies.</summary>
    public const string Documentation6 = "2001:db8::/32";

    /// <summary>The subnet this node serves, and a host on it.</summary>
    public const string Subnet = "10.20.0.0/16";
    public const string SubnetHost = "10.20.1.5";

    public const int SshPort = 22;
    public const int AppFirstPort = 8000;
    public const int AppLastPort = 8100;

    /// <summary>Flows this node opened before the fuzzer's packets arrive: their replies pass.</summary>
    public const int OwnTcpPort = 40000;
    public const int OwnUdpPort = 41641;
    public const int OwnDnsPort = 5353;
    public const ushort OwnEchoId = 0x1234;

    // The fuzzer's packets recorded as this node's own: a small table, so eviction is reached as well.
    private const int OutboundFlowCapacity = 64;

    public static PacketFilter Policy { get; } = new()
    {
        Rules =
        [
            new FilterRule
            {
                Sources = [$"{Peer4}/32", $"{Peer6}/128"],
                Destinations = [new() { Prefix = $"{Node4}/32", FirstPort = SshPort, LastPort = SshPort }, new() { Prefix = $"{Node6}/128", FirstPort = SshPort, LastPort = SshPort }],
            },
            new FilterRule
            {
                Sources = ["100.64.0.0/10", "fd7a:7472:6c6c::/48"],
                Destinations = [new() { Prefix = $"{Node4}/32", FirstPort = AppFirstPort, LastPort = AppLastPort }, new() { Prefix = $"{Node6}/128", FirstPort = AppFirstPort, LastPort = AppLastPort }],
                Protocols = [IpProtocols.Udp],
            },
            new FilterRule
            {
                Sources = [$"{Stranger4}/32", Documentation6],
                Destinations = [new() { Prefix = $"{Node4}/32" }, new() { Prefix = $"{Node6}/128" }],
                Protocols = [IpProtocols.Icmp, IpProtocols.IcmpV6],
            },
            new FilterRule
            {
                Sources = [$"{Peer4}/32"],
                Destinations = [new() { Prefix = Subnet }],
                Protocols = [IpProtocols.Gre, IpProtocols.Sctp],
            },
        ],
    };

    /// <summary>Packets this node sent (TCP, UDP and ping to <see cref="Server4"/> and <see cref="Server6"/>) before the fuzzed one.</summary>
    public static IReadOnlyList<byte[]> OwnPackets { get; } =
    [
        V4(Node4, Server4, IpProtocols.Tcp, Tcp(OwnTcpPort, 443, TcpSyn)),
        V4(Node4, Server4, IpProtocols.Udp, Udp(OwnUdpPort, 3478, new byte[20])),
        V4(Node4, Server4, IpProtocols.Icmp, Echo(8, OwnEchoId, 1)),
        V6(Node6, Server6, IpProtocols.Udp, Udp(OwnDnsPort, 53, new byte[29])),
        V6(Node6, Server6, IpProtocols.IcmpV6, Echo(128, OwnEchoId, 1)),
    ];

    private static readonly StatefulPacketFilter Inbound = CreateInbound();
    private static readonly StatefulPacketFilter Outbound = new(FrozenClock.Instance, flowCapacity: OutboundFlowCapacity);

    public static bool Run(ReadOnlySpan<byte> input)
    {
        // Read before measuring: the first read builds both filters (their flow tables are megabytes).
        var inbound = Inbound;
        var outbound = Outbound;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var allowed = inbound.Allows(input);
        outbound.RecordOutbound(input);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated != 0)
        {
            throw new InvalidOperationException($"the packet filter allocated {allocated} bytes for one packet; the data path must allocate nothing");
        }

        return allowed;
    }

    private static StatefulPacketFilter CreateInbound()
    {
        var filter = new StatefulPacketFilter(FrozenClock.Instance);
        var problems = filter.Update(Policy);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException($"the fuzz policy does not compile cleanly: {string.Join("; ", problems)}");
        }

        foreach (var packet in OwnPackets)
        {
            filter.RecordOutbound(packet);
        }

        // Every path once before the first measured packet, so first-call work (static fields) is not counted.
        foreach (var packet in OwnPackets)
        {
            _ = filter.Allows(packet);
        }

        return filter;
    }
}
