using Trellis.Core.Transport.InMemory;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>
/// Issue 18 at the engine: the routes it installs reach discovery, so a peer's candidate endpoint
/// inside an accepted subnet route (reached through the tunnel itself on a real host) never becomes
/// its direct path. On the in-memory network that endpoint answers directly, which is what made the
/// real nodes believe in it.
/// </summary>
public sealed class TunnelPathEngineTests
{
    // The office's only candidate is 192.0.2.2:41641; this route covers it.
    private const string RouteOverOfficeEndpoint = "192.0.2.2/32";

    /// <summary>Long enough for a ping and its pong on the in-memory network many times over; the control case proves it.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task Without_the_route_the_office_endpoint_becomes_the_direct_path()
    {
        var network = new InMemoryNetwork();
        await using var home = new MemoryNode(network, 1, discovery: true);
        await using var office = new MemoryNode(network, 2, discovery: true);
        await office.ApplyAsync(TestMaps.Map(office.Info(), home.Info()));
        await home.ApplyAsync(TestMaps.Map(home.Info(), office.Info()), new EngineSettings { AcceptRoutes = true });

        await PollAsync(() => home.Engine.Status().Peers.Single().Endpoint == "192.0.2.2:41641", "home's direct path to the office");
    }

    [Fact]
    public async Task An_accepted_route_over_the_office_endpoint_keeps_it_from_ever_becoming_the_direct_path()
    {
        var network = new InMemoryNetwork();
        await using var home = new MemoryNode(network, 1, discovery: true);
        await using var office = new MemoryNode(network, 2, discovery: true);
        await office.ApplyAsync(TestMaps.Map(office.Info(), home.Info()));
        await home.ApplyAsync(TestMaps.Map(home.Info(), office.Info(routes: [RouteOverOfficeEndpoint])), new EngineSettings { AcceptRoutes = true });

        await Task.Delay(Settle);
        Assert.Null(home.Engine.Status().Peers.Single().Endpoint);
    }

    [Fact]
    public async Task A_route_accepted_later_drops_the_direct_path_it_covers()
    {
        var network = new InMemoryNetwork();
        await using var home = new MemoryNode(network, 1, discovery: true);
        await using var office = new MemoryNode(network, 2, discovery: true);
        await office.ApplyAsync(TestMaps.Map(office.Info(), home.Info()));
        await home.ApplyAsync(TestMaps.Map(home.Info(), office.Info()), new EngineSettings { AcceptRoutes = true });
        await PollAsync(() => home.Engine.Status().Peers.Single().Endpoint is not null, "home's direct path to the office");

        await home.ApplyAsync(TestMaps.Map(home.Info(), office.Info(routes: [RouteOverOfficeEndpoint])), new EngineSettings { AcceptRoutes = true });

        Assert.Null(home.Engine.Status().Peers.Single().Endpoint);
    }

    private static async Task PollAsync(Func<bool> condition, string what)
    {
        var start = Environment.TickCount64;
        while (!condition())
        {
            Assert.True(Environment.TickCount64 - start < MemoryNode.Patience.TotalMilliseconds, "timed out waiting for " + what);
            await Task.Delay(20);
        }
    }
}
