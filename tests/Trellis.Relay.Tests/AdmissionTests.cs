using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

public class AdmissionTests
{
    private sealed class RefuseOne(Key refused) : IRelayAdmission
    {
        public List<Key> Asked { get; } = [];

        public ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken)
        {
            lock (Asked)
            {
                Asked.Add(nodeKey);
            }

            return ValueTask.FromResult(nodeKey != refused);
        }
    }

    private sealed class Broken : IRelayAdmission
    {
        public ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken) =>
            throw new HttpRequestException("control server unreachable");
    }

    [Fact]
    public async Task A_node_the_admission_refuses_is_told_why_and_the_others_carry_on()
    {
        var refusedKey = X25519.GeneratePrivateKey();
        var admission = new RefuseOne(X25519.PublicKey(refusedKey));
        await using var relay = await TestRelay.StartAsync(TestRelay.Options(admission: admission));
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        await using var refused = TestRelay.Client(relay, refusedKey);

        var e = await Assert.ThrowsAsync<RelayRefusedException>(() => refused.ConnectAsync());
        Assert.Contains("is not allowed on this relay", e.Message, StringComparison.Ordinal);
        Assert.Contains(X25519.PublicKey(refusedKey).ToBase64(), e.Message, StringComparison.Ordinal);
        Assert.Equal(RelayConnectionState.Refused, refused.State);

        await using var b = await TestRelay.ConnectedClientAsync(relay);
        await PacketExchange.BothWaysAsync(a, b, 50);
        Assert.Equal(1, relay.Server.Stats.HandshakesRefused);
        Assert.Contains(a.PublicKey, admission.Asked);
    }

    [Fact]
    public async Task A_refused_node_in_the_background_keeps_its_reason_and_retries()
    {
        var refusedKey = X25519.GeneratePrivateKey();
        await using var relay = await TestRelay.StartAsync(TestRelay.Options(admission: new RefuseOne(X25519.PublicKey(refusedKey))));
        await using var refused = TestRelay.Client(relay, refusedKey);
        refused.Start();
        await Eventually.TrueAsync(() => relay.Server.Stats.HandshakesRefused >= 2, "two refusals");
        Assert.Contains("not allowed", refused.LastError, StringComparison.Ordinal);
        Assert.False(refused.IsConnected);
    }

    [Fact]
    public async Task An_admission_that_fails_refuses_with_a_reason_instead_of_hanging()
    {
        await using var relay = await TestRelay.StartAsync(TestRelay.Options(admission: new Broken()));
        await using var client = TestRelay.Client(relay);
        var e = await Assert.ThrowsAsync<RelayRefusedException>(() => client.ConnectAsync());
        Assert.Contains("could not check", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_mesh_key_is_refused_and_not_treated_as_an_ordinary_client()
    {
        await using var relay = await TestRelay.StartAsync(TestRelay.Options() with { MeshKey = "region-secret" });
        await using var impostor = TestRelay.Client(relay, configure: o => o with { MeshKey = "guess" });
        var e = await Assert.ThrowsAsync<RelayRefusedException>(() => impostor.ConnectAsync());
        Assert.Contains("mesh key is wrong", e.Message, StringComparison.Ordinal);

        await using var noMesh = await TestRelay.StartAsync();
        await using var stray = TestRelay.Client(noMesh, configure: o => o with { MeshKey = "region-secret" });
        await Assert.ThrowsAsync<RelayRefusedException>(() => stray.ConnectAsync());
    }

    [Fact]
    public async Task The_right_mesh_key_skips_admission()
    {
        var admission = new RefuseOne(default);
        await using var relay = await TestRelay.StartAsync(TestRelay.Options(admission: admission) with { MeshKey = "region-secret" });
        await using var peer = TestRelay.Client(relay, configure: o => o with { MeshKey = "region-secret" });
        await peer.ConnectAsync();
        Assert.Empty(admission.Asked);
        await Eventually.TrueAsync(() => relay.Server.Stats.MeshPeersConnected == 1, "the mesh peer to count");
        Assert.Equal(0, relay.Server.Stats.Clients);
    }

    [Fact]
    public async Task Connections_beyond_the_per_address_bound_get_429()
    {
        await using var relay = await TestRelay.StartAsync(TestRelay.Options() with { MaxConnectionsPerAddress = 2 });
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        await using var b = await TestRelay.ConnectedClientAsync(relay);
        await using var c = TestRelay.Client(relay);

        var e = await Assert.ThrowsAsync<RelayConnectException>(() => c.ConnectAsync());
        Assert.Equal(429, e.HttpStatus);
        Assert.Contains("too many relay connections", e.Message, StringComparison.Ordinal);
        await PacketExchange.BothWaysAsync(a, b, 20);

        await b.DisposeAsync();
        await Eventually.TrueAsync(() => relay.Server.Stats.Connections == 1, "the slot to free");
        await c.ConnectAsync();
    }

    [Fact]
    public async Task A_full_relay_answers_503()
    {
        await using var relay = await TestRelay.StartAsync(TestRelay.Options() with { MaxConnections = 1 });
        await using var a = await TestRelay.ConnectedClientAsync(relay);
        await using var b = TestRelay.Client(relay);
        var e = await Assert.ThrowsAsync<RelayConnectException>(() => b.ConnectAsync());
        Assert.Equal(503, e.HttpStatus);
    }
}
