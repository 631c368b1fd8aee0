using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Tests.NodeProtocol;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Server;

namespace Trellis.Control.Tests.Server;

/// <summary>Only nodes the control server knows may use its relays: the embedded one and standalone ones.</summary>
public class RelayAdmissionTests
{
    private const string MeshKey = "an-example-mesh-key-of-enough-length-0123456789";

    private static RelayClient Client(Uri relay, Key nodePrivate) =>
        new(new RelayClientOptions { Url = relay, PrivateKey = nodePrivate });

    private static async Task<SimulatedNode> RegisteredAsync(ControlServerFixture server, string name)
    {
        var node = new SimulatedNode(server.Url, name);
        await node.ConnectAsync();
        Assert.Equal("active", (await node.RegisterAsync(await server.AuthKeyAsync())).Status);
        return node;
    }

    private static Task ExchangeAsync(RelayClient from, RelayClient to, string text) =>
        RelayExchange.SendAsync(from, to, text, TimeSpan.FromSeconds(10));

    [Fact]
    public async Task The_embedded_relay_carries_packets_between_registered_nodes_and_refuses_strangers()
    {
        await using var server = await ControlServerFixture.StartAsync();
        await using var a = await RegisteredAsync(server, "a");
        await using var b = await RegisteredAsync(server, "b");
        var relayUrl = new Uri(server.Url, "/relay");

        await using var ra = Client(relayUrl, a.NodeKey);
        await using var rb = Client(relayUrl, b.NodeKey);
        await ra.ConnectAsync();
        await rb.ConnectAsync();
        await ExchangeAsync(ra, rb, "a to b");
        await ExchangeAsync(rb, ra, "b to a");

        await using var stranger = Client(relayUrl, X25519.GeneratePrivateKey());
        var refused = await Assert.ThrowsAsync<RelayRefusedException>(() => stranger.ConnectAsync());
        Assert.Contains("not allowed", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_deleted_node_can_no_longer_connect_to_the_embedded_relay()
    {
        await using var server = await ControlServerFixture.StartAsync();
        await using var a = await RegisteredAsync(server, "a");
        var id = (await server.Store.ListNodesAsync()).Value!.Single().Id;
        await server.Store.DeleteNodeAsync(id);
        server.Host.Service.Removed(id, "deleted");

        await using var ra = Client(new Uri(server.Url, "/relay"), a.NodeKey);
        await Assert.ThrowsAsync<RelayRefusedException>(() => ra.ConnectAsync());
    }

    [Fact]
    public async Task A_standalone_relay_asks_the_control_server_and_admits_only_its_active_nodes()
    {
        await using var server = await ControlServerFixture.StartAsync(o => o with { RelayMeshKey = MeshKey });
        await using var a = await RegisteredAsync(server, "a");
        await using var b = await RegisteredAsync(server, "b");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var admission = new ControlServerAdmission(server.Url, MeshKey, clock);
        await using var relay = await RelayHost.StartAsync(new RelayServerOptions { PrivateKey = X25519.GeneratePrivateKey(), Admission = admission, MeshKey = MeshKey });

        await using var ra = Client(relay.RelayUrl, a.NodeKey);
        await using var rb = Client(relay.RelayUrl, b.NodeKey);
        await ra.ConnectAsync();
        await rb.ConnectAsync();
        await ExchangeAsync(ra, rb, "through a standalone relay");

        await using var stranger = Client(relay.RelayUrl, X25519.GeneratePrivateKey());
        await Assert.ThrowsAsync<RelayRefusedException>(() => stranger.ConnectAsync());

        // Deleted at the control server: refused once the relay's cached yes has aged out.
        var bId = (await server.Store.ListNodesAsync()).Value!.Single(n => n.Name == "b").Id;
        await server.Store.DeleteNodeAsync(bId);
        server.Host.Service.Removed(bId, "deleted");
        clock.Advance(admission.AllowedFor + TimeSpan.FromSeconds(1));
        await using var rb2 = Client(relay.RelayUrl, b.NodeKey);
        await Assert.ThrowsAsync<RelayRefusedException>(() => rb2.ConnectAsync());
    }

    [Fact]
    public async Task A_standalone_relay_with_the_wrong_mesh_key_admits_nobody()
    {
        await using var server = await ControlServerFixture.StartAsync(o => o with { RelayMeshKey = MeshKey });
        await using var a = await RegisteredAsync(server, "a");
        using var admission = new ControlServerAdmission(server.Url, MeshKey + "-wrong");
        var failure = await Assert.ThrowsAsync<AdmissionUnavailableException>(
            async () => await admission.IsAllowedAsync(X25519.PublicKey(a.NodeKey), CancellationToken.None));
        Assert.Contains("is the mesh key the server's?", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_control_server_goes_away_recently_admitted_nodes_stay_admitted_for_a_grace_period()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        Key nodeKey;
        ControlServerAdmission admission;
        await using (var server = await ControlServerFixture.StartAsync(o => o with { RelayMeshKey = MeshKey }))
        {
            await using var a = await RegisteredAsync(server, "a");
            nodeKey = X25519.PublicKey(a.NodeKey);
            admission = new ControlServerAdmission(server.Url, MeshKey, clock);
            Assert.True(await admission.IsAllowedAsync(nodeKey, CancellationToken.None));
        }

        using (admission)
        {
            clock.Advance(admission.AllowedFor + TimeSpan.FromSeconds(1));
            Assert.True(await admission.IsAllowedAsync(nodeKey, CancellationToken.None));
            await Assert.ThrowsAsync<AdmissionUnavailableException>(
                async () => await admission.IsAllowedAsync(X25519.PublicKey(X25519.GeneratePrivateKey()), CancellationToken.None));
            clock.Advance(admission.StaleGrace);
            await Assert.ThrowsAsync<AdmissionUnavailableException>(async () => await admission.IsAllowedAsync(nodeKey, CancellationToken.None));
        }
    }
}
