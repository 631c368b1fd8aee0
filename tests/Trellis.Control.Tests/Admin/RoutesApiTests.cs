using System.Net;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Admin;

public sealed class RoutesApiTests : AdminApiTestBase
{
    [Fact]
    public async Task Routes_are_listed_for_nodes_that_have_any()
    {
        var router = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24", "192.168.0.0/16"]);
        await Server.RegisterAsync("alice", "laptop");

        var routes = Expect(await GetAsync("/api/v1/routes"), HttpStatusCode.OK, Json.IReadOnlyListNodeRoutesDto);
        var entry = Assert.Single(routes);
        Assert.Equal(router.Id, entry.NodeId);
        Assert.Equal("router", entry.Node);
        Assert.Equal(["10.1.0.0/24", "192.168.0.0/16"], entry.Advertised);
        Assert.Empty(entry.Approved);
        Assert.Empty(entry.Served);
    }

    [Fact]
    public async Task An_approved_route_reaches_a_connected_peer_and_a_rejected_one_leaves()
    {
        var router = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        var laptop = await Server.RegisterAsync("alice", "laptop");
        using var session = Server.Mesh.Connect(laptop.Id);
        var full = Assert.IsType<FullMap>(await AdminTestServer.NextAsync(session));
        Assert.DoesNotContain("10.1.0.0/24", Assert.Single(full.Peers).AllowedIps);

        var approved = Expect(
            await PostAsync($"/api/v1/nodes/{router.Id}/routes/approve", """{"prefixes":["10.1.0.0/24"]}"""),
            HttpStatusCode.OK,
            Json.NodeRoutesDto);
        Assert.Equal(["10.1.0.0/24"], approved.Served);
        var delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        Assert.Contains("10.1.0.0/24", Assert.Single(delta.PeersChanged).AllowedIps);

        var rejected = Expect(
            await PostAsync($"/api/v1/nodes/{router.Id}/routes/reject", """{"prefixes":["10.1.0.0/24"]}"""),
            HttpStatusCode.OK,
            Json.NodeRoutesDto);
        Assert.Empty(rejected.Approved);
        delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        Assert.DoesNotContain("10.1.0.0/24", Assert.Single(delta.PeersChanged).AllowedIps);
    }

    [Fact]
    public async Task The_router_itself_learns_its_approved_routes()
    {
        var router = await Server.RegisterAsync("alice", "router", ["fd00:1::/64"]);
        using var session = Server.Mesh.Connect(router.Id);
        await AdminTestServer.NextAsync(session);

        await PostAsync($"/api/v1/nodes/{router.Id}/routes/approve", """{"prefixes":["fd00:1::/64"]}""");
        var delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        Assert.Contains("fd00:1::/64", delta.Self!.AllowedIps);
    }

    [Theory]
    [InlineData("""{"prefixes":["10.1.0.1/24"]}""", "host bits")]
    [InlineData("""{"prefixes":["10.1.0.0"]}""", "invalid route prefix")]
    [InlineData("""{"prefixes":["10.2.0.0/24"]}""", "does not advertise")]
    [InlineData("""{"prefixes":[]}""", "at least one")]
    [InlineData("""{"prefixes":"10.1.0.0/24"}""", "invalid JSON")]
    [InlineData("""{}""", "invalid JSON")]
    public async Task A_bad_approval_is_a_400(string body, string message)
    {
        var router = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        var error = ExpectError(await PostAsync($"/api/v1/nodes/{router.Id}/routes/approve", body), HttpStatusCode.BadRequest);
        Assert.Contains(message, error);
        Assert.Empty((await Server.Store.GetNodeByIdAsync(router.Id))!.ApprovedRoutes);
    }

    [Fact]
    public async Task Routes_of_an_unknown_node_are_a_404()
    {
        ExpectError(await PostAsync("/api/v1/nodes/999/routes/approve", """{"prefixes":["10.1.0.0/24"]}"""), HttpStatusCode.NotFound);
        ExpectError(await PostAsync("/api/v1/nodes/999/routes/reject", """{"prefixes":["10.1.0.0/24"]}"""), HttpStatusCode.NotFound);
    }
}
