using System.Net;
using Trellis.Control.Tests.Admin;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>
/// A node's endpoint update in flight while an admin changes the node: the update is held by the
/// test after its store write, the admin's change completes, then the update is let go. The mesh
/// must end as the admin left it.
/// </summary>
public sealed class LiveStateRaceTests
{
    private static readonly EndpointUpdate Update = new() { Endpoints = ["198.51.100.7:41641"], HomeRelay = 900 };

    private static bool WritesHomeRelay(string sql) =>
        sql.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase) && sql.Contains("\"HomeRelay\"", StringComparison.Ordinal);

    [Fact]
    public async Task A_node_deleted_during_its_endpoint_update_does_not_come_back()
    {
        TestContexts? contexts = null;
        await using var server = await AdminTestServer.StartAsync(path => contexts = new TestContexts(path));
        using var api = server.Client();
        var node = await server.RegisterAsync("alice", "laptop");
        var peer = await server.RegisterAsync("alice", "peer");
        using var peerSession = server.Mesh.Connect(peer.Id);

        contexts!.Hold.Arm(WritesHomeRelay);
        var update = server.Service.UpdateEndpointsAsync(node.MachineKey, Update);
        await contexts.Hold.Held;

        using (var deleted = await api.DeleteAsync($"api/v1/nodes/{node.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        contexts.Hold.Release();
        var error = await update;

        Assert.Equal("not-active", error?.Code);
        Assert.Null(server.Mesh.Get(node.Id));
        Assert.False(server.Mesh.IsActiveNodeKey(node.NodeKey.ToBase64()));
        Assert.Null(await server.Store.GetNodeByIdAsync(node.Id));
        Assert.Equal(1, server.Mesh.NodeCount);

        // The peer's map holds no ghost: a fresh stream's full map has nobody but the peer.
        using var fresh = server.Mesh.Connect(peer.Id);
        var map = Assert.IsType<FullMap>(await AdminTestServer.NextAsync(fresh));
        Assert.Empty(map.Peers);
    }

    [Fact]
    public async Task A_rename_during_an_endpoint_update_stays_and_the_endpoints_arrive_too()
    {
        TestContexts? contexts = null;
        await using var server = await AdminTestServer.StartAsync(path => contexts = new TestContexts(path));
        using var api = server.Client();
        var node = await server.RegisterAsync("alice", "laptop");

        contexts!.Hold.Arm(WritesHomeRelay);
        var update = server.Service.UpdateEndpointsAsync(node.MachineKey, Update);
        await contexts.Hold.Held;

        using (var renamed = await api.PostAsync($"api/v1/nodes/{node.Id}/rename", AdminTestServer.Json("""{"name":"work"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        }

        contexts.Hold.Release();
        Assert.Null(await update);

        var live = server.Mesh.Get(node.Id);
        Assert.Equal("work", live?.Name);
        Assert.Equal(Update.Endpoints, live?.Endpoints);
        Assert.Equal(900, live?.HomeRelay);
    }
}
