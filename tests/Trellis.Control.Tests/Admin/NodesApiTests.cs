using System.Net;
using Trellis.Control.Admin;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Admin;

public sealed class NodesApiTests : AdminApiTestBase
{
    [Fact]
    public async Task Nodes_are_listed_with_owner_addresses_and_status()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        await Server.RegisterAsync("bob", "desktop");
        await Server.RegisterPendingAsync("stranger");

        var all = Expect(await GetAsync("/api/v1/nodes"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto);
        Assert.Equal(["laptop", "desktop", "stranger"], all.Select(n => n.Name));
        Assert.Equal([NodeDto.Active, NodeDto.Active, NodeDto.Pending], all.Select(n => n.Status));
        var first = all[0];
        Assert.Equal(laptop.Id, first.Id);
        Assert.Equal("alice", first.User);
        Assert.Equal(laptop.IPv4!.ToString(), first.IPv4);
        Assert.Equal(laptop.NodeKey.ToBase64(), first.NodeKey);
        Assert.Contains("\"ipv4\":", (await GetAsync("/api/v1/nodes")).Body, StringComparison.Ordinal);

        var alices = Expect(await GetAsync("/api/v1/nodes?user=alice"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto);
        Assert.Equal(["laptop"], alices.Select(n => n.Name));
        ExpectError(await GetAsync("/api/v1/nodes?user=nobody"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_rename_reaches_connected_peers()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var desktop = await Server.RegisterAsync("alice", "desktop");
        using var session = Server.Mesh.Connect(desktop.Id);
        Assert.IsType<FullMap>(await AdminTestServer.NextAsync(session));

        var renamed = Expect(await PostAsync($"/api/v1/nodes/{laptop.Id}/rename", """{"name":"Work-Laptop"}"""), HttpStatusCode.OK, Json.NodeDto);
        Assert.Equal("work-laptop", renamed.Name);

        var delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        Assert.Equal("work-laptop", Assert.Single(delta.PeersChanged).Name);
    }

    [Fact]
    public async Task A_rename_to_a_taken_or_bad_name_is_refused()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        await Server.RegisterAsync("alice", "desktop");
        ExpectError(await PostAsync($"/api/v1/nodes/{laptop.Id}/rename", """{"name":"desktop"}"""), HttpStatusCode.Conflict);
        ExpectError(await PostAsync($"/api/v1/nodes/{laptop.Id}/rename", """{"name":"bad name"}"""), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync($"/api/v1/nodes/{laptop.Id}/rename", """{"nmae":"x"}"""), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync("/api/v1/nodes/999/rename", """{"name":"x"}"""), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("99999999999999999999999")]
    public async Task A_malformed_node_id_is_a_400(string id)
    {
        ExpectError(await DeleteAsync($"/api/v1/nodes/{id}"), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync($"/api/v1/nodes/{id}/expire"), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync($"/api/v1/nodes/{id}/approve"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Deleting_a_node_removes_it_from_peers_and_ends_its_stream()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var desktop = await Server.RegisterAsync("alice", "desktop");
        using var own = Server.Mesh.Connect(laptop.Id);
        using var peer = Server.Mesh.Connect(desktop.Id);
        await AdminTestServer.NextAsync(own);
        await AdminTestServer.NextAsync(peer);

        var (status, _) = await DeleteAsync($"/api/v1/nodes/{laptop.Id}");
        Assert.Equal(HttpStatusCode.NoContent, status);

        Assert.Equal([laptop.Id], Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(peer)).PeersRemoved);
        Assert.Null(await AdminTestServer.NextAsync(own));
        Assert.Equal("deleted by an admin", own.CloseReason);
        Assert.Null(await Server.Store.GetNodeByIdAsync(laptop.Id));
        ExpectError(await DeleteAsync($"/api/v1/nodes/{laptop.Id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_online_node_was_last_seen_now_and_an_expired_one_is_never_listed_online()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var desktop = await Server.RegisterAsync("alice", "desktop");
        var earlier = Server.Clock.GetUtcNow();
        await Server.Store.SetOnlineAsync(laptop.Id, true, earlier);
        await Server.Store.SetOnlineAsync(desktop.Id, true, earlier);
        Server.Clock.Advance(TimeSpan.FromHours(3));
        Expect(await PostAsync($"/api/v1/nodes/{desktop.Id}/expire"), HttpStatusCode.OK, Json.NodeDto);

        var listed = Expect(await GetAsync("/api/v1/nodes"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto);
        var online = listed.Single(n => n.Id == laptop.Id);
        Assert.Equal((true, Server.Clock.GetUtcNow()), (online.Online, online.LastSeen));
        var expired = listed.Single(n => n.Id == desktop.Id);
        Assert.Equal((false, true), (expired.Online, expired.Expired));
    }

    [Fact]
    public async Task Expiring_a_node_takes_it_out_of_the_mesh()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var desktop = await Server.RegisterAsync("alice", "desktop");
        using var peer = Server.Mesh.Connect(desktop.Id);
        await AdminTestServer.NextAsync(peer);

        var expired = Expect(await PostAsync($"/api/v1/nodes/{laptop.Id}/expire"), HttpStatusCode.OK, Json.NodeDto);
        Assert.True(expired.Expired);
        Assert.Equal([laptop.Id], Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(peer)).PeersRemoved);
        Assert.Null(Server.Mesh.Get(laptop.Id));
        ExpectError(await PostAsync("/api/v1/nodes/999/expire"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Approving_a_pending_node_brings_it_into_the_mesh()
    {
        await Server.CreateUserAsync("alice");
        var desktop = await Server.RegisterAsync("alice", "desktop");
        var stranger = await Server.RegisterPendingAsync("stranger");
        using var peer = Server.Mesh.Connect(desktop.Id);
        await AdminTestServer.NextAsync(peer);

        // Without an owner there is nothing to approve it for.
        ExpectError(await PostAsync($"/api/v1/nodes/{stranger.Id}/approve"), HttpStatusCode.BadRequest);

        var approved = Expect(await PostAsync($"/api/v1/nodes/{stranger.Id}/approve", """{"user":"alice"}"""), HttpStatusCode.OK, Json.NodeDto);
        Assert.Equal(NodeDto.Active, approved.Status);
        Assert.Equal("alice", approved.User);
        Assert.Equal(stranger.Id, Assert.Single(Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(peer)).PeersChanged).Id);

        ExpectError(await PostAsync($"/api/v1/nodes/{stranger.Id}/approve", """{"user":"alice"}"""), HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_pending_node_can_be_approved_for_tags_but_not_for_both()
    {
        var stranger = await Server.RegisterPendingAsync("stranger");
        ExpectError(await PostAsync($"/api/v1/nodes/{stranger.Id}/approve", """{"user":"alice","tags":["tag:x"]}"""), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync($"/api/v1/nodes/{stranger.Id}/approve", """{"user":"nobody"}"""), HttpStatusCode.NotFound);
        var approved = Expect(await PostAsync($"/api/v1/nodes/{stranger.Id}/approve", """{"tags":["tag:server"]}"""), HttpStatusCode.OK, Json.NodeDto);
        Assert.Equal(["tag:server"], approved.Tags);
        Assert.NotNull(Server.Mesh.Get(stranger.Id));
    }
}
