using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

/// <summary>Meshed relays pin each other's keys: a peer presenting another key never gets the mesh key.</summary>
public sealed class MeshPeerKeyTests : IDisposable
{
    private const string MeshKey = "region-900-secret";
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-mesh-keys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static RelayServerOptions Meshed(Key? privateKey = null, string? keyFile = null) =>
        TestRelay.Options(privateKey) with { MeshKey = MeshKey, MeshPeerKeyFile = keyFile };

    private static async Task<string> RefusalAsync(RelayHost relay)
    {
        await Eventually.TrueAsync(() => relay.Server.MeshLinks.Single().LastError?.Contains("presented relay key", StringComparison.Ordinal) == true, "the mesh link to refuse the peer's key");
        return relay.Server.MeshLinks.Single().LastError!;
    }

    [Fact]
    public async Task A_peer_whose_key_differs_from_the_one_pinned_in_its_url_is_refused_naming_both_keys()
    {
        await using var two = await TestRelay.StartAsync(Meshed());
        var pinned = X25519.PublicKey(X25519.GeneratePrivateKey());
        await using var one = await TestRelay.StartAsync(Meshed() with { MeshPeers = [new Uri($"{two.RelayUrl}#{pinned.ToBase64()}")] });

        var error = await RefusalAsync(one);
        Assert.Contains(two.Server.PublicKey.ToBase64(), error, StringComparison.Ordinal);
        Assert.Contains(pinned.ToBase64(), error, StringComparison.Ordinal);
        Assert.Contains($"{two.RelayUrl}#{two.Server.PublicKey.ToBase64()}", error, StringComparison.Ordinal);
        Assert.False(one.Server.MeshLinks.Single().Connected);
        Assert.Equal(0, two.Server.Stats.MeshPeersConnected);

        // The right key, in base64 or hex, meshes.
        await using var three = await TestRelay.StartAsync(Meshed() with { MeshPeers = [new Uri($"{two.RelayUrl}#{two.Server.PublicKey.ToHex()}")] });
        await Eventually.TrueAsync(() => three.Server.MeshLinks.Single().Connected, "the pinned link to connect");
    }

    [Fact]
    public async Task A_peer_that_comes_back_with_another_key_is_refused_even_after_a_restart()
    {
        var keyFile = Path.Combine(_directory, "mesh-peer-keys");
        var oldKey = X25519.GeneratePrivateKey();
        var two = await TestRelay.StartAsync(Meshed(oldKey));
        var port = two.Url.Port;
        var url = two.RelayUrl;
        await using (var one = await TestRelay.StartAsync(Meshed(keyFile: keyFile) with { MeshPeers = [url] }))
        {
            await Eventually.TrueAsync(() => one.Server.MeshLinks.Single().Connected, "the first link (trusted on first use)");
            Assert.Contains($"{url} {X25519.PublicKey(oldKey).ToBase64()}", await File.ReadAllTextAsync(keyFile), StringComparison.Ordinal);

            // Something else answers at the peer's address with its own key.
            await two.DisposeAsync();
            await using var impostor = await TestRelay.StartAsync(Meshed(), port);
            var error = await RefusalAsync(one);
            Assert.Contains(X25519.PublicKey(oldKey).ToBase64(), error, StringComparison.Ordinal);
            Assert.Contains(impostor.Server.PublicKey.ToBase64(), error, StringComparison.Ordinal);
            Assert.Contains(keyFile, error, StringComparison.Ordinal);
            Assert.Equal(0, impostor.Server.Stats.MeshPeersConnected);

            // A restarted relay remembers the key it first saw.
            await using var restarted = await TestRelay.StartAsync(Meshed(keyFile: keyFile) with { MeshPeers = [url] });
            await RefusalAsync(restarted);
            Assert.Equal(0, impostor.Server.Stats.MeshPeersConnected);
        }
    }
}
