using System.Net;
using Trellis.Core.Transport;
using Trellis.Node.Filter;

namespace Trellis.WireGuard.Tests;

/// <summary>Steady-state traffic allocates nothing per packet, on either side of the tunnel.</summary>
public class AllocationTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Sending_and_receiving_allocate_nothing_per_packet_in_steady_state(bool filtered)
    {
        // The system clock: the fake clock allocates a waiter whenever a timer is re-armed.
        using var pair = new DevicePair();
        var packet = Packets.Build("10.0.0.1", "10.0.0.2", 1000);
        var reply = Packets.Build("10.0.0.2", "10.0.0.1", 1000);
        if (filtered)
        {
            // B lets A in by the last of 100 rules; A lets B's answers in as replies to its own flow.
            var policy = FilterPolicies.HundredRules(FilterPolicies.Udp("10.0.0.1/32", "10.0.0.2/32", FilterPolicies.PortOf(0xab)));
            foreach (var device in new[] { pair.A, pair.B })
            {
                var filter = new StatefulPacketFilter(TimeProvider.System);
                filter.Update(policy);
                device.InboundFilter = filter;
            }
        }

        var into = new[] { new PacketBuffer() };

        void Exchange(int rounds)
        {
            for (var i = 0; i < rounds; i++)
            {
                for (var j = 0; j < 16; j++)
                {
                    pair.TunA.Inject(packet);
                    pair.TunB.Inject(reply);
                }

                for (var j = 0; j < 16; j++)
                {
                    if (pair.TunB.Delivered.Dequeue(into, 0, DevicePair.Patience) != 1 || pair.TunA.Delivered.Dequeue(into, 0, DevicePair.Patience) != 1)
                    {
                        Assert.Fail("a packet was lost");
                    }
                }
            }
        }

        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, packet)); // one session, initiated by A
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, reply));

        // The harness's wire log copies every packet on the sending thread, which records its
        // allocation count only after its whole batch is sent: switched off after the warm-up, the
        // copies of the warm-up's last batch (delivered, so the warm-up was over, but not yet
        // recorded) landed in the measured window under load (8,640 and 17,280 bytes: 8 and 16
        // copies of a 1,056-byte packet). Off before the warm-up, nothing is copied at all.
        pair.Network.Tap = null;
        Exchange(200); // warm up: sessions, lazily created ciphers, JIT tiers
        // Counted on the device's own threads: the test runner allocates on others meanwhile.
        long DataPath() => pair.A.DataPathAllocatedBytes + pair.B.DataPathAllocatedBytes;
        long Handshakes() => pair.A.Counters.HandshakesCompleted + pair.B.Counters.HandshakesCompleted;
        var handshakes = Handshakes();
        var before = DataPath();
        Exchange(1000);
        var allocated = DataPath() - before;
        handshakes = Handshakes() - handshakes; // a new session stages packets, which does allocate

        const int packets = 1000 * 16 * 2;
        Assert.True(allocated < packets / 16, $"{allocated} bytes allocated for {packets} packets ({handshakes} handshakes meanwhile)");
        Assert.Equal(0, Interlocked.Read(ref pair.A.Counters.DroppedByFilter) + Interlocked.Read(ref pair.B.Counters.DroppedByFilter));
    }

    [Fact]
    public void Over_udp_with_sticky_sources_nothing_is_allocated_per_packet_and_replies_leave_from_the_address_used()
    {
        // A reaches B at 127.0.0.3, not at the 127.0.0.1 the kernel would pick as B's source: every
        // reply B sends must carry 127.0.0.3 as its source control message, or A roams to 127.0.0.1.
        using var bindA = new Trellis.Net.UdpBind();
        using var bindB = new Trellis.Net.UdpBind();
        using var pair = new DevicePair(bindA: bindA, bindB: bindB);
        var atB = new Endpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("127.0.0.3:1")).Address, pair.B.ListenPort);
        pair.PeerBOnA.SetEndpoint(atB);
        pair.PeerAOnB.SetEndpoint(new Endpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("127.0.0.2:1")).Address, pair.A.ListenPort));
        var packet = Packets.Build("10.0.0.1", "10.0.0.2", 1000);
        var reply = Packets.Build("10.0.0.2", "10.0.0.1", 1000);
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, packet));
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, reply));

        var into = new[] { new PacketBuffer() };
        void Exchange(int rounds)
        {
            for (var i = 0; i < rounds; i++)
            {
                for (var j = 0; j < 16; j++)
                {
                    pair.TunA.Inject(packet);
                    pair.TunB.Inject(reply);
                }

                for (var j = 0; j < 16; j++)
                {
                    // UDP may drop under load; what matters is what the packets that went cost.
                    pair.TunB.Delivered.Dequeue(into, 0, TimeSpan.FromSeconds(1));
                    pair.TunA.Delivered.Dequeue(into, 0, TimeSpan.FromSeconds(1));
                }
            }
        }

        Exchange(200);
        long DataPath() => pair.A.DataPathAllocatedBytes + pair.B.DataPathAllocatedBytes;
        var before = DataPath();
        Exchange(1000);
        var allocated = DataPath() - before;

        const int packets = 1000 * 16 * 2;
        Assert.True(allocated < packets / 16, $"{allocated} bytes allocated for {packets} packets");
        Assert.Equal(atB, pair.PeerBOnA.Endpoint);
        Assert.Equal("127.0.0.3", pair.PeerAOnB.Source.ToString());
    }
}
