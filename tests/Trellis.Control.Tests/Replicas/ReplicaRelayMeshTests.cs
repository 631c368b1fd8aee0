using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Control.Replicas;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Server;

namespace Trellis.Control.Tests.Replicas;

/// <summary>What a replica's embedded relay links to, from the roster it is handed (no database, no network: the relay is never started).</summary>
public sealed class ReplicaRelayMeshTests : IAsyncLifetime
{
    private const string Self = "self-origin";
    private readonly Key _ownKey = X25519.GeneratePrivateKey();
    private RelayServer _relay = null!;
    private ReplicaRelayMesh _mesh = null!;

    public Task InitializeAsync()
    {
        _relay = new RelayServer(new RelayServerOptions
        {
            PrivateKey = _ownKey,
            Admission = new AllowNone(),
            MeshKey = ReplicaMeshKey.Derive(X25519.GeneratePrivateKey()),
        });
        _mesh = new ReplicaRelayMesh(_relay, Self, NullLogger<ReplicaRelayMesh>.Instance);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _relay.DisposeAsync();

    private static Key PublicOfNew() => X25519.PublicKey(X25519.GeneratePrivateKey());

    private string[] Links() => [.. _relay.MeshLinks.Select(l => l.Url.ToString()).Order(StringComparer.Ordinal)];

    [Fact]
    public async Task It_links_to_every_other_replicas_relay_with_its_key_pinned_and_unlinks_those_that_leave_or_change_key()
    {
        var b = PublicOfNew();
        var c = PublicOfNew();
        await _mesh.UpdateAsync(
            [
                new LiveReplica(Self, "https://a.example.com/", _relay.PublicKey),
                new LiveReplica("b", "https://b.example.com/", b),
                new LiveReplica("c", "https://c.example.com:8443/", c),
                new LiveReplica("no-relay", "https://d.example.com/", null),
            ],
            CancellationToken.None);
        Assert.Equal(["https://b.example.com/relay", "https://c.example.com:8443/relay"], Links());
        Assert.Equal(b, _mesh.Linked[new Uri("https://b.example.com/relay")]);

        // B is gone; C restarted on a fresh data directory (a new row, a new relay key).
        var c2 = PublicOfNew();
        await _mesh.UpdateAsync([new LiveReplica(Self, "https://a.example.com/", _relay.PublicKey), new LiveReplica("c2", "https://c.example.com:8443/", c2)], CancellationToken.None);
        Assert.Equal(["https://c.example.com:8443/relay"], Links());
        Assert.Equal(c2, _mesh.Linked[new Uri("https://c.example.com:8443/relay")]);

        await _mesh.UpdateAsync([], CancellationToken.None);
        Assert.Empty(Links());
    }

    [Fact]
    public async Task A_replica_with_this_relays_own_key_is_not_linked()
    {
        await _mesh.UpdateAsync([new LiveReplica("copied", "https://b.example.com/", _relay.PublicKey)], CancellationToken.None);
        Assert.Empty(Links());
    }

    [Fact]
    public void The_derived_mesh_key_is_the_same_for_one_server_key_and_differs_for_another_and_is_not_the_key_itself()
    {
        var serverKey = X25519.GeneratePrivateKey();
        var derived = ReplicaMeshKey.Derive(serverKey);
        Assert.Equal(derived, ReplicaMeshKey.Derive(Key.FromBase64(serverKey.ToBase64())));
        Assert.NotEqual(derived, ReplicaMeshKey.Derive(X25519.GeneratePrivateKey()));
        Assert.Matches("^[0-9a-f]{64}$", derived);
        Assert.NotEqual(serverKey.ToHex(), derived);
    }

    private sealed class AllowNone : IRelayAdmission
    {
        public ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken) => ValueTask.FromResult(false);
    }
}
