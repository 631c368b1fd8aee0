using Trellis.Control.Sso;
using Trellis.Control.Store;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>
/// A connected node renewing its key before it expires (`trellis up --force-reauth` without an auth
/// key): the server answers on the running stream with a sign-in link for the node's owner, the
/// owner's sign-in moves the expiry on and the node learns it by a delta, without leaving the mesh.
/// </summary>
public sealed class KeyRenewalTests
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);

    private static readonly SsoIdentity Alice = new("https://id.example.com", "sub-alice", "alice@example.com", true, null, ["eng"]);

    private static readonly SsoIdentity Bob = new("https://id.example.com", "sub-bob", "bob@example.com", true, null, ["ops"]);

    private static Task<ControlServerFixture> StartAsync(bool sso) => ControlServerFixture.StartAsync(o => o with
    {
        NodeKeyExpiry = Lifetime,
        PublicUrl = sso ? "http://127.0.0.1:1" : o.PublicUrl,
        Sso = sso ? new SsoOptions { Issuer = Alice.Issuer, ClientId = "trellis", ClientSecret = "not-used-here", NodeKeyExpiry = Lifetime } : null,
    });

    [Fact]
    public async Task The_owners_sign_in_renews_a_running_nodes_key_and_nobody_elses_does()
    {
        await using var server = await StartAsync(sso: true);
        await using var laptop = new SimulatedNode(server.Url, "laptop");
        await laptop.ConnectAsync();
        var pending = await laptop.RegisterAsync(null);
        Assert.Equal(RegisterStatus.Pending, pending.Status);
        var nodeKey = (await server.Store.ListNodesAsync()).Value!.Single().NodeKey;
        var joined = await server.Host.Service.CompleteSignInAsync(pending.Self!.Id, nodeKey, Alice, Lifetime);
        Assert.True(joined.Succeeded, joined.Message);
        Assert.False(joined.Value.Renewed);

        var active = await laptop.RegisterAsync(null);
        var first = active.Self!.KeyExpiry;
        Assert.Equal(Lifetime.TotalMinutes, (first!.Value - server.Clock.GetUtcNow()).TotalMinutes, precision: 3);
        await laptop.StartMapAsync();
        await SimulatedNode.WaitAsync(() => laptop.FullMaps == 1, "the full map");
        Assert.Equal(first, laptop.Self!.KeyExpiry);

        await laptop.SendAsync(RenewRequest(laptop));
        var renewal = await NextRegisterResponseAsync(laptop);
        Assert.Equal(RegisterStatus.Active, renewal.Status);
        Assert.Contains("/oidc/start/", renewal.AuthUrl, StringComparison.Ordinal);
        Assert.Contains($"sign in as {joined.Value.User.Name} at {renewal.AuthUrl}", renewal.ApproveHint, StringComparison.Ordinal);

        // Someone else's sign-in at the link changes nothing.
        server.Clock.Advance(TimeSpan.FromMinutes(10));
        var stolen = await server.Host.Service.CompleteSignInAsync(active.Self.Id, nodeKey, Bob, Lifetime);
        Assert.False(stolen.Succeeded);
        Assert.Contains($"belongs to {joined.Value.User.Name}; only they can renew its key", stolen.Message, StringComparison.Ordinal);
        Assert.Equal(first, (await server.Store.GetNodeByIdAsync(active.Self.Id))!.KeyExpiry);

        // The owner's does: the expiry moves on from now, and the node hears of it on its stream.
        var renewed = await server.Host.Service.CompleteSignInAsync(active.Self.Id, nodeKey, Alice, Lifetime);
        Assert.True(renewed.Succeeded, renewed.Message);
        Assert.True(renewed.Value.Renewed);
        var second = renewed.Value.Node.KeyExpiry!.Value;
        Assert.Equal(TimeSpan.FromMinutes(10).TotalMinutes, (second - first.Value).TotalMinutes, precision: 3);
        await SimulatedNode.WaitAsync(() => laptop.Self?.KeyExpiry == second, "the renewed expiry to reach the node");
        Assert.Equal(1, laptop.FullMaps);
        Assert.Null(laptop.EndedWith);
        Assert.Equal(active.Self.NodeKey, laptop.Self!.NodeKey);
        Assert.Equal(active.Self.Addresses, laptop.Self.Addresses);
    }

    [Fact]
    public async Task A_node_no_sign_in_can_renew_is_told_to_use_an_auth_key_and_stays_connected()
    {
        await using var server = await StartAsync(sso: false);
        var key = await server.AuthKeyAsync(expires: server.Clock.GetUtcNow().AddDays(1));
        await using var box = new SimulatedNode(server.Url, "box");
        await box.ConnectAsync();
        var active = await box.RegisterAsync(key);
        Assert.Equal(RegisterStatus.Active, active.Status);
        await box.StartMapAsync();
        await SimulatedNode.WaitAsync(() => box.FullMaps == 1, "the full map");

        await box.SendAsync(RenewRequest(box));
        var renewal = await NextRegisterResponseAsync(box);
        Assert.Equal(RegisterStatus.Active, renewal.Status);
        Assert.Null(renewal.AuthUrl);
        Assert.Equal(
            "this server has no single sign-on; to renew this node's key, register it again with an auth key: trellis up --force-reauth --authkey KEY",
            renewal.ApproveHint);
        Assert.Equal(active.Self!.KeyExpiry, (await server.Store.GetNodeByIdAsync(active.Self.Id))!.KeyExpiry);
        Assert.Null(box.EndedWith);
    }

    [Fact]
    public async Task On_a_server_with_sign_in_a_node_an_admin_owns_by_auth_key_is_told_to_use_an_auth_key()
    {
        await using var server = await StartAsync(sso: true);
        var key = await server.AuthKeyAsync(expires: server.Clock.GetUtcNow().AddDays(1));
        await using var box = new SimulatedNode(server.Url, "box");
        await box.ConnectAsync();
        Assert.Equal(RegisterStatus.Active, (await box.RegisterAsync(key)).Status);
        await box.StartMapAsync();
        await SimulatedNode.WaitAsync(() => box.FullMaps == 1, "the full map");

        await box.SendAsync(RenewRequest(box));
        var renewal = await NextRegisterResponseAsync(box);
        Assert.Null(renewal.AuthUrl);
        Assert.StartsWith("this node is not owned by a person who signs in", renewal.ApproveHint, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_that_never_expires_has_nothing_to_renew()
    {
        await using var server = await ControlServerFixture.StartAsync(o => o with { NodeKeyExpiry = null });
        var key = await server.AuthKeyAsync(expires: server.Clock.GetUtcNow().AddDays(1));
        await using var box = new SimulatedNode(server.Url, "box");
        await box.ConnectAsync();
        Assert.Null((await box.RegisterAsync(key)).Self!.KeyExpiry);
        await box.StartMapAsync();
        await SimulatedNode.WaitAsync(() => box.FullMaps == 1, "the full map");

        await box.SendAsync(RenewRequest(box));
        var renewal = await NextRegisterResponseAsync(box);
        Assert.Null(renewal.AuthUrl);
        Assert.StartsWith("this node's key never expires", renewal.ApproveHint, StringComparison.Ordinal);
    }

    private static RegisterRequest RenewRequest(SimulatedNode node) => new()
    {
        NodeKey = Trellis.Crypto.X25519.PublicKey(node.NodeKey).ToBase64(),
        DiscoKey = Trellis.Crypto.X25519.PublicKey(node.DiscoKey).ToBase64(),
        Hostname = node.Hostname,
        Renew = true,
    };

    private static async Task<RegisterResponse> NextRegisterResponseAsync(SimulatedNode node)
    {
        RegisterResponse? found = null;
        await SimulatedNode.WaitAsync(() => (found = node.ReceivedSoFar().OfType<RegisterResponse>().LastOrDefault()) is not null, "the answer to the renewal request");
        return found!;
    }
}
