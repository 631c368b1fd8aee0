using Trellis.Core.Control;
using Trellis.Core.Transport;
using Trellis.Node.Filter;

namespace Trellis.WireGuard.Tests;

/// <summary>The device's inbound filter hook with the node's filter in it, between two in-memory devices.</summary>
public class InboundFilterTests
{
    private const byte Granted = 0xab;
    private const byte Refused = 0xcd;

    [Theory]
    [InlineData("10.0.0.1", "10.0.0.2")]
    [InlineData("fd00::1", "fd00::2")]
    public void A_refused_packet_never_reaches_the_tun_and_a_granted_one_does(string a, string b)
    {
        using var pair = new DevicePair();
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build(a, b, fill: Granted))); // session up before the policy
        var filter = new StatefulPacketFilter(TimeProvider.System);
        filter.Update(new PacketFilter { Rules = [FilterPolicies.Udp(a, b, FilterPolicies.PortOf(Granted))] });
        pair.B.InboundFilter = filter;

        pair.TunA.Inject(Packets.Build(a, b, fill: Refused));
        var delivered = DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build(a, b, fill: Granted));

        // Packets keep their order through the device: had the refused one passed, it would be first.
        Assert.NotNull(delivered);
        Assert.Equal(Granted, delivered[^1]);
        Assert.Equal(1, Interlocked.Read(ref pair.B.Counters.DroppedByFilter));
        Assert.Equal(1, pair.PeerAOnB.DroppedByFilter);
        Assert.Equal(0, pair.TunB.Delivered.Dequeue(new[] { new PacketBuffer() }, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Replies_to_what_the_host_sent_pass_a_policy_that_grants_nothing()
    {
        using var pair = new DevicePair();
        var filter = new StatefulPacketFilter(TimeProvider.System);
        filter.Update(PacketFilter.DenyAll);
        pair.B.InboundFilter = filter;

        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1", fill: Granted)));
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2", fill: Granted)));

        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2", fill: Refused)); // other ports: not a reply
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.B.Counters.DroppedByFilter) == 1, "B to refuse the packet that answers nothing");
        Assert.Equal(0, pair.TunB.Delivered.Dequeue(new[] { new PacketBuffer() }, 0, TimeSpan.Zero));
    }

    [Fact]
    public void Swapping_the_policy_mid_stream_loses_no_packet_of_a_flow_both_policies_grant()
    {
        using var pair = new DevicePair();
        var port = FilterPolicies.PortOf(Granted);
        var narrow = new PacketFilter { Rules = [FilterPolicies.Udp("10.0.0.1/32", "10.0.0.2/32", port)] };
        var wide = FilterPolicies.HundredRules(FilterPolicies.Udp("10.0.0.0/24", "10.0.0.0/24", port));
        var filter = new StatefulPacketFilter(TimeProvider.System);
        filter.Update(narrow);
        pair.B.InboundFilter = filter;
        var packet = Packets.Build("10.0.0.1", "10.0.0.2", fill: Granted);
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, packet));

        const int packets = 2000;
        var swapper = new Thread(() =>
        {
            for (var i = 0; i < 200; i++)
            {
                filter.Update(i % 2 == 0 ? wide : narrow);
            }
        });
        swapper.Start();
        var into = new[] { new PacketBuffer() };
        var received = 0;
        for (var i = 0; i < packets; i++)
        {
            pair.TunA.Inject(packet);
            if (i % 16 == 15)
            {
                for (var j = 0; j < 16; j++)
                {
                    received += pair.TunB.Delivered.Dequeue(into, 0, DevicePair.Patience);
                }
            }
        }

        swapper.Join();
        Assert.Equal(packets, received);
        Assert.Equal(0, Interlocked.Read(ref pair.B.Counters.DroppedByFilter));

        // And a swap to a policy that no longer grants the flow applies from the next packet.
        filter.Update(PacketFilter.DenyAll);
        pair.TunA.Inject(packet);
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.B.Counters.DroppedByFilter) == 1, "the new policy to refuse the flow");
    }
}
