using System.Net;
using Trellis.Control.Admin;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Control.Tests.Admin;

public sealed class PlainPeersApiTests : AdminApiTestBase
{
    private static string NewPublicKey() => X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64();

    private async Task<long> GatewayAsync(string name = "gateway", string endpoint = "198.51.100.7:41641")
    {
        var gateway = await Server.RegisterAsync("alice", name);
        Assert.True((await Server.Store.SetReachabilityAsync(gateway.Id, ["192.168.1.5:41641", endpoint], 0, peerRelay: false, mappingVaries: false)).Succeeded);
        Expect(await PostAsync($"/api/v1/nodes/{gateway.Id}/gateway", """{"enabled":true}"""), HttpStatusCode.OK, Json.NodeDto);
        return gateway.Id;
    }

    private async Task<int> NodeCountAsync() => Expect(await GetAsync("/api/v1/nodes"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto).Count;

    [Fact]
    public async Task Without_a_public_key_the_config_carries_a_generated_private_key_once_and_names_the_gateway_at_its_public_endpoint()
    {
        var gatewayId = await GatewayAsync();
        var added = Expect(await PostAsync("/api/v1/nodes/wireguard", """{"name":"Phone","user":"alice"}"""), HttpStatusCode.Created, Json.WireGuardConfigDto);

        Assert.Equal("phone", added.Node.Name);
        Assert.Equal(gatewayId, added.Node.Gateway);
        var privateLine = Assert.Single(added.Config.Split('\n'), l => l.StartsWith("PrivateKey = ", StringComparison.Ordinal));
        var privateKey = Key.FromBase64(privateLine["PrivateKey = ".Length..]);
        Assert.Equal(added.Node.NodeKey, X25519.PublicKey(privateKey).ToBase64());
        Assert.Contains($"Address = {added.Node.IPv4}/32, {added.Node.IPv6}/128\n", added.Config, StringComparison.Ordinal);
        Assert.Contains("Endpoint = 198.51.100.7:41641\n", added.Config, StringComparison.Ordinal); // not the LAN address
        Assert.Contains("PersistentKeepalive = 25\n", added.Config, StringComparison.Ordinal);

        var again = Expect(await GetAsync($"/api/v1/nodes/{added.Node.Id}/wireguard-config"), HttpStatusCode.OK, Json.WireGuardConfigDto);
        Assert.DoesNotContain(privateLine, again.Config, StringComparison.Ordinal);
        Assert.Contains(added.Node.NodeKey, again.Config, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Peers_see_a_plain_peer_as_a_node_behind_its_gateway_without_a_disco_key()
    {
        var gatewayId = await GatewayAsync();
        var laptop = await Server.RegisterAsync("alice", "laptop");
        using var session = Server.Mesh.Connect(laptop.Id);
        Assert.IsType<FullMap>(await AdminTestServer.NextAsync(session));

        var key = NewPublicKey();
        Expect(await PostAsync("/api/v1/nodes/wireguard", $$"""{"name":"phone","user":"alice","publicKey":"{{key}}","gateway":"gateway"}"""), HttpStatusCode.Created, Json.WireGuardConfigDto);

        var delta = Assert.IsType<MapDelta>(await AdminTestServer.NextAsync(session));
        var phone = Assert.Single(delta.PeersChanged);
        Assert.Equal(("phone", key, gatewayId, ""), (phone.Name, phone.NodeKey, phone.Gateway, phone.DiscoKey));
    }

    [Fact]
    public async Task Bad_keys_unknown_users_and_gateways_that_cannot_serve_are_refused_and_register_nothing()
    {
        var plain = await Server.RegisterAsync("alice", "plain-node");
        var noGatewayYet = ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice"}"""), HttpStatusCode.BadRequest);
        Assert.Contains("trellis nodes gateway", noGatewayYet, StringComparison.Ordinal);

        await GatewayAsync();
        var taken = (await Server.RegisterAsync("alice", "laptop")).NodeKey.ToBase64();
        var before = await NodeCountAsync();

        ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice","publicKey":"not-a-key"}"""), HttpStatusCode.BadRequest);
        ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice","publicKey":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="}"""), HttpStatusCode.BadRequest);
        var duplicate = ExpectError(await PostAsync("/api/v1/nodes/wireguard", $$"""{"name":"phone","user":"alice","publicKey":"{{taken}}"}"""), HttpStatusCode.Conflict);
        Assert.Contains("public key", duplicate, StringComparison.Ordinal);
        var nobody = ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"nobody"}"""), HttpStatusCode.NotFound);
        Assert.Contains("trellis users create", nobody, StringComparison.Ordinal);
        var notGateway = ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice","gateway":"plain-node"}"""), HttpStatusCode.Conflict);
        Assert.Contains("not a gateway", notGateway, StringComparison.Ordinal);
        ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice","gateway":"missing"}"""), HttpStatusCode.NotFound);
        ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"laptop","user":"alice"}"""), HttpStatusCode.Conflict);
        Assert.Equal(before, await NodeCountAsync());

        // A gateway with only a LAN endpoint cannot be dialled by a device elsewhere.
        Assert.True((await Server.Store.SetReachabilityAsync(plain.Id, ["192.168.1.9:41641"], 0, peerRelay: false, mappingVaries: false)).Succeeded);
        Expect(await PostAsync($"/api/v1/nodes/{plain.Id}/gateway", """{"enabled":true}"""), HttpStatusCode.OK, Json.NodeDto);
        var unreachable = ExpectError(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice","gateway":"plain-node"}"""), HttpStatusCode.Conflict);
        Assert.Contains("--endpoint", unreachable, StringComparison.Ordinal);
        Assert.Equal(before, await NodeCountAsync());
    }

    [Fact]
    public async Task The_config_routes_approved_subnets_but_no_exit_route_and_says_to_fetch_it_again_after_a_change()
    {
        await GatewayAsync();
        var router = await Server.RegisterAsync("alice", "router", ["10.77.0.0/24", "0.0.0.0/0"]);
        Expect(await PostAsync($"/api/v1/nodes/{router.Id}/routes/approve", """{"prefixes":["10.77.0.0/24","0.0.0.0/0"]}"""), HttpStatusCode.OK, Json.NodeRoutesDto);
        var phone = Expect(await PostAsync("/api/v1/nodes/wireguard", $$"""{"name":"phone","user":"alice","publicKey":"{{NewPublicKey()}}"}"""), HttpStatusCode.Created, Json.WireGuardConfigDto);

        var allowed = Assert.Single(phone.Config.Split('\n'), l => l.StartsWith("AllowedIPs = ", StringComparison.Ordinal));
        Assert.Contains(", 10.77.0.0/24", allowed, StringComparison.Ordinal);
        Assert.DoesNotContain("0.0.0.0/0", allowed, StringComparison.Ordinal);
        Assert.Contains("fetch this again (trellis nodes wireguard-config phone)", phone.Config, StringComparison.Ordinal);

        Expect(await PostAsync($"/api/v1/nodes/{router.Id}/routes/reject", """{"prefixes":["10.77.0.0/24"]}"""), HttpStatusCode.OK, Json.NodeRoutesDto);
        var again = Expect(await GetAsync($"/api/v1/nodes/{phone.Node.Id}/wireguard-config"), HttpStatusCode.OK, Json.WireGuardConfigDto);
        Assert.DoesNotContain("10.77.0.0/24", again.Config, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_node_list_shows_a_plain_peers_gateway_and_whether_it_is_online()
    {
        var gatewayId = await GatewayAsync();
        await Server.CreateUserAsync("bob");
        var phone = Expect(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"bob"}"""), HttpStatusCode.Created, Json.WireGuardConfigDto);

        var listed = Expect(await GetAsync("/api/v1/nodes"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto).Single(n => n.Id == phone.Node.Id);
        Assert.Equal(("gateway", false, gatewayId), (listed.GatewayName, listed.GatewayOnline, listed.Gateway));
        Assert.True((await Server.Store.SetOnlineAsync(gatewayId, true)).Succeeded);
        var mine = Expect(await GetAsync("/api/v1/nodes?user=bob"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto).Single(n => n.Id == phone.Node.Id);
        Assert.Equal(("gateway", true), (mine.GatewayName, mine.GatewayOnline));
    }

    [Fact]
    public async Task A_gateway_serving_plain_peers_cannot_be_switched_off_or_deleted_until_they_are_gone()
    {
        var gatewayId = await GatewayAsync();
        var phone = Expect(await PostAsync("/api/v1/nodes/wireguard", """{"name":"phone","user":"alice"}"""), HttpStatusCode.Created, Json.WireGuardConfigDto);

        ExpectError(await PostAsync($"/api/v1/nodes/{gatewayId}/gateway", """{"enabled":false}"""), HttpStatusCode.Conflict);
        var deleting = await DeleteAsync($"/api/v1/nodes/{gatewayId}");
        Assert.Equal(HttpStatusCode.Conflict, deleting.Status);
        Assert.Contains("still serves plain WireGuard peers", deleting.Body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NoContent, (await DeleteAsync($"/api/v1/nodes/{phone.Node.Id}")).Status);
        var off = Expect(await PostAsync($"/api/v1/nodes/{gatewayId}/gateway", """{"enabled":false}"""), HttpStatusCode.OK, Json.NodeDto);
        Assert.False(off.WireGuardGateway);
    }
}
