using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Server;

namespace Trellis.Discovery.Tests;

/// <summary>Two binds over a real relay (Kestrel on 127.0.0.1) through <see cref="RelayClientTransport"/>.</summary>
public class RealRelayTests
{
    // Only a safety net: 5 s was tight for a first connection to a cold Kestrel on busy shared cores.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Packets_and_pings_cross_a_real_relay()
    {
        await using var host = await RelayHost.StartAsync(new RelayServerOptions
        {
            PrivateKey = X25519.GeneratePrivateKey(),
            Admission = AllowAllAdmissionForTesting.Instance,
        });
        var network = new InMemoryNetwork { Drop = (src, dst, _) => src.Address != dst.Address };
        var keyA = X25519.GeneratePrivateKey();
        var keyB = X25519.GeneratePrivateKey();
        await using var clientA = Client(host, keyA);
        await using var clientB = Client(host, keyB);
        await clientA.ConnectAsync();
        await clientB.ConnectAsync();
        await using var relayA = new RelayClientTransport(clientA, 901);
        await using var relayB = new RelayClientTransport(clientB, 901);

        using var a = new TestNode(network, "10.0.0.1", relayA, TimeProvider.System, keyA);
        using var b = new TestNode(network, "10.0.0.2", relayB, TimeProvider.System, keyB);
        a.Bind.SetPeers([b.AsPeer(901)]);
        b.Bind.SetPeers([a.AsPeer(901)]);

        a.SendWireGuard(b.NodeKey, 4);
        await TestNode.WaitForAsync(() => b.Received.Count == 4, "relayed packets", (int)Patience.TotalMilliseconds);
        Assert.All(b.Received, r => Assert.Equal(b.Bind.SyntheticEndpointOf(a.NodeKey), r.Source));

        using var cts = new CancellationTokenSource(Patience);
        var ping = await a.Bind.PingAsync(b.NodeKey, cts.Token);
        Assert.Equal("relay", ping!.Path);
        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
    }

    private static RelayClient Client(RelayHost host, Trellis.Core.Keys.Key key) => new(new RelayClientOptions
    {
        Url = host.RelayUrl,
        PrivateKey = key,
        ConnectTimeout = Patience,
    });
}
