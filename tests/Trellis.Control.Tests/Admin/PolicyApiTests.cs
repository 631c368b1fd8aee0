using System.Net;
using System.Text;
using Trellis.Control.AccessControl;
using Trellis.Control.Admin;
using Trellis.Control.Policy;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Admin;

public sealed class PolicyApiTests : AdminApiTestBase
{
    private static readonly string AliceToBob = GrantPolicyCompiler.Text(("alice", "bob"));

    private protected override IPolicyCompiler? Compiler { get; } = new GrantPolicyCompiler();

    private Task<(HttpStatusCode Status, string Body)> PutPolicyAsync(string text) => PutPolicyAsync(Encoding.UTF8.GetBytes(text));

    private async Task<(HttpStatusCode Status, string Body)> PutPolicyAsync(byte[] body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/policy") { Content = new ByteArrayContent(body) };
        using var response = await Api.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Without_a_policy_get_says_everyone_reaches_everyone_and_how_to_set_one()
    {
        var error = ExpectError(await GetAsync("/api/v1/policy"), HttpStatusCode.NotFound);
        Assert.Contains("every node can reach every other", error, StringComparison.Ordinal);
        Assert.Contains("trellis policy set", error, StringComparison.Ordinal);
        Assert.True(Server.Mesh.Policy.AllowsAll);
    }

    [Fact]
    public async Task A_policy_set_is_read_back_exactly_with_its_author_and_is_in_force_on_connected_nodes()
    {
        var alice = await Server.RegisterAsync("alice", "laptop");
        var bob = await Server.RegisterAsync("bob", "desktop");
        var carol = await Server.RegisterAsync("carol", "phone");
        using var session = Server.Mesh.Connect(carol.Id);
        Assert.IsType<FullMap>(await AdminTestServer.NextAsync(session));

        var set = Expect(await PutPolicyAsync(AliceToBob), HttpStatusCode.OK, Json.PolicyDto);

        Assert.Equal(1, set.Rules);
        Assert.Equal("database", set.Source);
        Assert.StartsWith("API key ", set.UpdatedBy, StringComparison.Ordinal);
        var read = Expect(await GetAsync("/api/v1/policy"), HttpStatusCode.OK, Json.PolicyDto);
        Assert.Equal(AliceToBob, read.Policy); // comments and layout kept
        Assert.Equal(AliceToBob, (await Server.Store.GetPolicyAsync())!.Text);

        var delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        Assert.Equal([alice.Id, bob.Id], delta.PeersRemoved.Order());
        Assert.Empty(delta.PacketFilter!.Rules);
    }

    [Fact]
    public async Task A_refused_policy_answers_with_line_and_column_and_the_previous_one_stays()
    {
        Expect(await PutPolicyAsync(AliceToBob), HttpStatusCode.OK, Json.PolicyDto);
        var inForce = Server.Mesh.Policy;

        var error = ExpectError(await PutPolicyAsync("{\n  \"acls\": [],\n  \"hostz\": {}\n}"), HttpStatusCode.BadRequest);

        Assert.Contains("line 3, column 3", error, StringComparison.Ordinal);
        Assert.Contains("hostz", error, StringComparison.Ordinal);
        Assert.Contains("previous one stays in force", error, StringComparison.Ordinal);
        Assert.Same(inForce, Server.Mesh.Policy);
        Assert.Equal(AliceToBob, Expect(await GetAsync("/api/v1/policy"), HttpStatusCode.OK, Json.PolicyDto).Policy);
    }

    [Fact]
    public async Task A_policy_over_one_mebibyte_is_refused_unread_and_changes_nothing()
    {
        Expect(await PutPolicyAsync(AliceToBob), HttpStatusCode.OK, Json.PolicyDto);
        var huge = Encoding.UTF8.GetBytes("// " + new string('x', PolicyService.MaxPolicyBytes) + "\n{}");

        var error = ExpectError(await PutPolicyAsync(huge), HttpStatusCode.RequestEntityTooLarge);

        Assert.Contains(PolicyService.MaxPolicyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), error, StringComparison.Ordinal);
        Assert.Equal(AliceToBob, (await Server.Store.GetPolicyAsync())!.Text);
    }

    [Fact]
    public async Task Removing_the_policy_lets_everyone_reach_everyone_again()
    {
        Expect(await PutPolicyAsync(AliceToBob), HttpStatusCode.OK, Json.PolicyDto);

        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAsync("/api/v1/policy")).Status);

        Assert.True(Server.Mesh.Policy.AllowsAll);
        Assert.Null(await Server.Store.GetPolicyAsync());
        ExpectError(await DeleteAsync("/api/v1/policy"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Tagging_a_node_is_allowed_only_for_tags_the_policy_owns_and_moves_it_in_its_peers_maps()
    {
        var alice = await Server.RegisterAsync("alice", "laptop");
        var web = await Server.RegisterAsync("bob", "web");
        Expect(await PutPolicyAsync("""
            {"acls": [{"src": "alice", "dst": "tag:server"}], "tagOwners": {"tag:server": ["alice"]}}
            """), HttpStatusCode.OK, Json.PolicyDto);
        using var session = Server.Mesh.Connect(alice.Id);
        Assert.Empty(Assert.IsType<FullMap>(await AdminTestServer.NextAsync(session)).Peers);

        var refused = ExpectError(await PostAsync($"/api/v1/nodes/{web.Id}/tags", """{"tags":["tag:db"]}"""), HttpStatusCode.Forbidden);
        Assert.Contains("tag:db", refused, StringComparison.Ordinal);
        Assert.Contains("tagOwners", refused, StringComparison.Ordinal);

        var tagged = Expect(await PostAsync($"/api/v1/nodes/{web.Id}/tags", """{"tags":["tag:server"]}"""), HttpStatusCode.OK, Json.NodeDto);
        Assert.Null(tagged.User);
        Assert.Equal(["tag:server"], tagged.Tags);
        var delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        Assert.Equal(["tag:server"], Assert.Single(delta.PeersChanged).Tags);
    }
}

/// <summary>The server's own compiler (the HuJSON policy language) behind the API.</summary>
public sealed class PolicyApiWithTheServersCompilerTests : AdminApiTestBase
{
    [Fact]
    public async Task A_malformed_policy_is_refused_with_its_line_and_column_and_nothing_is_stored()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/policy") { Content = new StringContent("{\n  \"acls\": [\n    { \"action\": \"accept\", \"src\": [\"*\"] \"dst\": [\"*:*\"] },\n  ],\n}") };
        using var response = await Api.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("line 3", body, StringComparison.Ordinal);
        Assert.Null(await Server.Store.GetPolicyAsync());
        Assert.True(Server.Mesh.Policy.AllowsAll);
    }

    [Fact]
    public async Task A_valid_policy_is_compiled_stored_and_put_in_force()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/policy") { Content = new StringContent("// everyone everywhere\n{ \"acls\": [ { \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }, ] }") };
        using var response = await Api.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(await Server.Store.GetPolicyAsync());
        Assert.False(Server.Mesh.Policy.AllowsAll);
    }
}
