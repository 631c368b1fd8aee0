using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

/// <summary>A standalone relay's cache of the control server's answers stays bounded under a flood of strangers.</summary>
public sealed class AdmissionCacheTests
{
    /// <summary>The control server: 204 for its one node, 404 for anything else, or unreachable.</summary>
    private sealed class FakeControlServer(Key node) : HttpMessageHandler
    {
        public bool Down { get; set; }

        public int Queries { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Queries++;
            if (Down)
            {
                throw new HttpRequestException("connection refused");
            }

            var known = request.RequestUri!.AbsolutePath.EndsWith(node.ToHex(), StringComparison.Ordinal);
            return Task.FromResult(new HttpResponseMessage(known ? HttpStatusCode.NoContent : HttpStatusCode.NotFound));
        }
    }

    [Fact]
    public async Task A_flood_of_random_keys_keeps_the_cache_bounded_and_the_admitted_node_admitted()
    {
        const int Capacity = 100;
        var node = X25519.PublicKey(X25519.GeneratePrivateKey());
        var control = new FakeControlServer(node);
        var time = new FakeTimeProvider();
        using var admission = new ControlServerAdmission(new Uri("https://control.example"), "mesh-key", time, handler: control, maxCachedKeys: Capacity);

        Assert.True(await admission.IsAllowedAsync(node, CancellationToken.None));
        for (var i = 0; i < 20 * Capacity; i++)
        {
            Assert.False(await admission.IsAllowedAsync(X25519.PublicKey(X25519.GeneratePrivateKey()), CancellationToken.None));
            Assert.InRange(admission.CachedKeys, 1, Capacity);
        }

        // The node's yes outlived the flood: still served from the cache, and kept while the control server is down.
        var queries = control.Queries;
        Assert.True(await admission.IsAllowedAsync(node, CancellationToken.None));
        Assert.Equal(queries, control.Queries);
        control.Down = true;
        time.Advance(admission.AllowedFor + TimeSpan.FromSeconds(1));
        Assert.True(await admission.IsAllowedAsync(node, CancellationToken.None));
        var stranger = await Assert.ThrowsAsync<AdmissionUnavailableException>(
            async () => await admission.IsAllowedAsync(X25519.PublicKey(X25519.GeneratePrivateKey()), CancellationToken.None));
        Assert.Contains("connection refused", stranger.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_cache_full_of_admitted_nodes_makes_room_by_dropping_the_oldest()
    {
        const int Capacity = 10;
        var time = new FakeTimeProvider();
        using var admission = new ControlServerAdmission(new Uri("https://control.example"), "mesh-key", time, handler: new AdmitAll(), maxCachedKeys: Capacity);
        for (var i = 0; i < 5 * Capacity; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(await admission.IsAllowedAsync(X25519.PublicKey(X25519.GeneratePrivateKey()), CancellationToken.None));
            Assert.InRange(admission.CachedKeys, 1, Capacity);
        }
    }

    private sealed class AdmitAll : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(new HttpResponseMessage(HttpStatusCode.NoContent));
    }
}
