using Trellis.Core.Control;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>Engines on in-memory TUNs and sockets, exchanging real WireGuard traffic in one process.</summary>
public sealed class InMemoryDataPlaneTests : IAsyncLifetime
{
    private readonly InMemoryNetwork _network = new();
    private MemoryNode _a = null!;
    private MemoryNode _b = null!;

    public Task InitializeAsync()
    {
        _a = new MemoryNode(_network, 1);
        _b = new MemoryNode(_network, 2);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
    }

    /// <summary>
    /// Applies A's and B's maps, first to the node that waits before initiating (see
    /// <see cref="WireGuardEngine.InitiatesFirst"/>) so that the other's first initiation finds it
    /// ready, then carries one packet from the initiator, which rides on that handshake. Sending from
    /// the waiter first would start a second, simultaneous handshake and a 5 s retry.
    /// </summary>
    private async Task ConnectAsync(NetMap mapA, EngineSettings settingsA, NetMap mapB, EngineSettings settingsB)
    {
        var (initiator, waiter) = WireGuardEngine.InitiatesFirst(_a.Engine.PublicKey, _b.Engine.PublicKey) ? (_a, _b) : (_b, _a);
        await waiter.ApplyAsync(waiter == _a ? mapA : mapB, waiter == _a ? settingsA : settingsB);
        await initiator.ApplyAsync(initiator == _a ? mapA : mapB, initiator == _a ? settingsA : settingsB);
        Assert.NotNull(initiator.Send(waiter, $"100.64.0.{initiator.Id}", $"100.64.0.{waiter.Id}"));
    }

    [Fact]
    public async Task Two_engines_carry_ipv4_and_ipv6_between_their_overlay_addresses()
    {
        await ConnectAsync(TestMaps.Map(_a.Info(), _b.Info()), new(), TestMaps.Map(_b.Info(), _a.Info()), new());

        Assert.NotNull(_a.Send(_b, "100.64.0.1", "100.64.0.2"));
        Assert.NotNull(_b.Send(_a, "100.64.0.2", "100.64.0.1"));
        Assert.NotNull(_a.Send(_b, "fd7a:115c:a1e0::1", "fd7a:115c:a1e0::2"));

        var status = Assert.Single(_a.Engine.Status().Peers);
        Assert.Equal((2L, _b.NodeKey, "direct", "192.0.2.2:41641"), (status.Id, status.NodeKey, status.Path, status.Endpoint));
        Assert.NotNull(status.LastHandshake);
        Assert.True(status.RxBytes > 0 && status.TxBytes > 0);
        Assert.Null(status.Relay);
    }

    [Fact]
    public async Task Changing_another_peer_leaves_an_established_session_untouched()
    {
        // C exists only in A's map (no endpoint): it never handshakes, so any handshake A completes
        // after this point would be a new session with B.
        string c = TestMaps.PublicOf(TestMaps.NewPrivateKey()), rotated = TestMaps.PublicOf(TestMaps.NewPrivateKey());
        await ConnectAsync(TestMaps.Map(_a.Info(), _b.Info(), TestMaps.Peer(3, c, endpoints: [])), new(), TestMaps.Map(_b.Info(), _a.Info()), new());
        Assert.NotNull(_a.Send(_b, "100.64.0.1", "100.64.0.2"));
        Assert.NotNull(_b.Send(_a, "100.64.0.2", "100.64.0.1"));
        var peerB = _a.DevicePeer(_b.NodeKey)!;
        var handshake = peerB.LastHandshake;
        var handshakes = Interlocked.Read(ref _a.Device.Counters.HandshakesCompleted);

        await _a.ApplyAsync(TestMaps.Map(_a.Info(), _b.Info(), TestMaps.Peer(3, rotated, routes: ["10.3.0.0/16"], endpoints: [])), new EngineSettings { AcceptRoutes = true });
        await _a.ApplyAsync(TestMaps.Map(_a.Info(), _b.Info()), new EngineSettings { AcceptRoutes = true });

        Assert.NotNull(_a.Send(_b, "100.64.0.1", "100.64.0.2"));
        Assert.Same(peerB, _a.DevicePeer(_b.NodeKey));
        Assert.Equal(handshake, peerB.LastHandshake);
        Assert.Equal(handshakes, Interlocked.Read(ref _a.Device.Counters.HandshakesCompleted));
        Assert.Single(_a.Device.Peers);
    }

    [Fact]
    public async Task Traffic_to_an_accepted_subnet_route_reaches_the_router()
    {
        await ConnectAsync(
            TestMaps.Map(_a.Info(), _b.Info(routes: ["192.168.2.0/24"])),
            new EngineSettings { AcceptRoutes = true },
            TestMaps.Map(_b.Info(routes: ["192.168.2.0/24"]), _a.Info()),
            new EngineSettings { AdvertisedRoutes = ["192.168.2.0/24"] });

        Assert.NotNull(_a.Send(_b, "100.64.0.1", "192.168.2.10"));
        Assert.NotNull(_b.Send(_a, "192.168.2.10", "100.64.0.1"));
    }

    [Fact]
    public async Task The_maps_packet_filter_decides_what_reaches_the_host_and_a_new_one_applies_at_once()
    {
        var mapA = TestMaps.Map(_a.Info(), _b.Info());
        await ConnectAsync(mapA, new(), TestMaps.Map(_b.Info(), _a.Info()), new());
        Assert.NotNull(_b.Send(_a, "100.64.0.2", "100.64.0.1")); // no policy yet: everything passes

        // IPPackets.Udp fills its payload with 0x5a, so its ports are 0x5a5a.
        const int port = 0x5a5a;
        await _a.ApplyAsync(mapA with { PacketFilter = PacketFilter.DenyAll });
        _b.Tun.Inject(Filter.FilterPackets.Udp("100.64.0.2", 4000, "100.64.0.1", 5000)); // not on a flow A opened
        await WaitForAsync(() => _a.Engine.Status().DroppedByPolicy == 1, "A to drop B's packet");
        Assert.Equal(0, _a.Tun.Delivered.Dequeue(new[] { new PacketBuffer() }, 0, TimeSpan.Zero));
        Assert.Equal(1, Assert.Single(_a.Engine.Status().Peers).DroppedByPolicy);

        // A's own flow to B: B's answer on it passes although no rule grants it.
        Assert.NotNull(_a.Send(_b, "100.64.0.1", "100.64.0.2"));
        Assert.NotNull(_b.Send(_a, "100.64.0.2", "100.64.0.1"));

        var grant = new PacketFilter
        {
            Rules = [new FilterRule { Sources = ["fd7a:115c:a1e0::2/128"], Destinations = [new FilterDestination { Prefix = "fd7a:115c:a1e0::1/128", FirstPort = port, LastPort = port }] }],
        };
        await _a.ApplyAsync(mapA with { PacketFilter = grant });
        Assert.NotNull(_b.Send(_a, "fd7a:115c:a1e0::2", "fd7a:115c:a1e0::1"));
        Assert.Equal(1, _a.Engine.Status().DroppedByPolicy);
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + MemoryNode.Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what}");
            await Task.Delay(10);
        }
    }
}
