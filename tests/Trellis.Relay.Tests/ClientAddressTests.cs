using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

/// <summary>
/// Which address the per-address bound counts: the socket's peer, X-Forwarded-For only from a
/// trusted proxy, and IPv6 per /64. The fake clock keeps the open connections' handshakes from timing out.
/// </summary>
public sealed class ClientAddressTests
{
    private static Task<RelayHost> StartAsync(params string[] trustedProxies) =>
        TestRelay.StartAsync(
            TestRelay.Options() with { MaxConnectionsPerAddress = 1, TrustedProxies = [.. trustedProxies.Select(IPNetwork.Parse)] },
            time: new FakeTimeProvider());

    private static void Upgraded(string response) => Assert.StartsWith("HTTP/1.1 101", response, StringComparison.Ordinal);

    private static void Refused(string response, string address)
    {
        Assert.StartsWith("HTTP/1.1 429", response, StringComparison.Ordinal);
        Assert.Contains($"too many relay connections from {address}", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored_and_honoured_from_a_trusted_proxy()
    {
        // No trusted proxies (the default): whatever a client claims, it is 127.0.0.1.
        await using (var direct = await StartAsync())
        await using (var open = new OpenConnections(direct))
        {
            Upgraded(await open.ConnectAsync("198.51.100.1"));
            Refused(await open.ConnectAsync("198.51.100.2"), "127.0.0.1");
        }

        // Behind a trusted proxy each client counts as the address the proxy appended.
        await using var proxied = await StartAsync("127.0.0.0/8");
        await using var viaProxy = new OpenConnections(proxied);
        Upgraded(await viaProxy.ConnectAsync("198.51.100.1"));
        Upgraded(await viaProxy.ConnectAsync("198.51.100.2"));

        // A client behind the proxy writing its own X-Forwarded-For gains nothing: the proxy's entry is the rightmost.
        Refused(await viaProxy.ConnectAsync("203.0.113.66, 198.51.100.1"), "198.51.100.1");

        // The proxy's own requests without the header count as the proxy.
        Upgraded(await viaProxy.ConnectAsync(null));
    }

    [Fact]
    public async Task Two_clients_of_one_IPv6_64_count_as_one_address()
    {
        await using var relay = await StartAsync("127.0.0.1/32");
        await using var open = new OpenConnections(relay);
        Upgraded(await open.ConnectAsync("[2001:db8:1:2::1]:50000"));
        Refused(await open.ConnectAsync("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");

        // The next /64 is another address; IPv4 still counts per address.
        Upgraded(await open.ConnectAsync("2001:db8:1:3::1"));
        Upgraded(await open.ConnectAsync("198.51.100.1:4000"));
        Refused(await open.ConnectAsync("198.51.100.1"), "198.51.100.1");
    }

    /// <summary>Connections held open through the test and closed before their relay (on the fake clock it would wait for them).</summary>
    private sealed class OpenConnections(RelayHost relay) : IAsyncDisposable
    {
        private readonly List<RawRelayConnection> _connections = [];

        public async Task<string> ConnectAsync(string? forwardedFor)
        {
            var (connection, response) = await RawRelayConnection.RequestUpgradeAsync(relay.RelayUrl, forwardedFor is null ? [] : [$"X-Forwarded-For: {forwardedFor}"]);
            _connections.Add(connection);
            return response;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var connection in _connections)
            {
                await connection.DisposeAsync();
            }

            await Eventually.TrueAsync(() => relay.Server.Stats.Connections == 0, "the relay to see the connections close");
        }
    }
}
