using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

public sealed class DuplicateDiscoKeyTests : IDisposable
{
    private readonly DiscoTestBed _bed = new();

    private static Key NewNodeKey() => X25519.PublicKey(X25519.GeneratePrivateKey());

    [Fact]
    public async Task A_peer_claiming_an_established_peers_disco_key_gets_no_discovery_and_cannot_take_its_path()
    {
        var (a, b) = _bed.Pair();
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b.Local, "A's direct path to B");

        // Disco keys are public: an impostor copies B's and names B's socket as its own candidate,
        // hoping A attributes B's answers to it (and B's traffic goes nowhere).
        var impostor = new DiscoPeer(NewNodeKey(), b.Bind.DiscoPublicKey, [b.Local], 900);
        a.Bind.SetPeers([b.AsPeer(), impostor]);

        await _bed.KeepTrafficAsync(a, b, 10, () =>
        {
            Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
            var other = a.Bind.GetStatus(impostor.NodeKey)!;
            Assert.Equal("relay", other.Path);
            Assert.Null(other.DirectEndpoint);
        });
        Assert.Equal(0, a.Bind.RelaySent);
    }

    [Fact]
    public async Task Two_new_peers_sharing_a_disco_key_get_no_discovery_until_the_map_tells_them_apart()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        b.Bind.SetLocalEndpoints([b.Local]);
        b.Bind.SetPeers([a.AsPeer()]);
        var twin = new DiscoPeer(NewNodeKey(), b.Bind.DiscoPublicKey, [b.Local], 900);

        // Neither can be told from the other, so A probes neither: both stay on the relay.
        a.Bind.SetPeers([twin, b.AsPeer()]);
        Assert.Equal(0, _bed.PingsSent(a.Local, b.Local));
        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal("relay", a.Bind.GetStatus(twin.NodeKey)!.Path);

        a.Bind.SetPeers([b.AsPeer()]);
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b.Local, "A's direct path to B");
    }

    [Fact]
    public void A_peer_claiming_this_nodes_own_disco_key_gets_no_discovery()
    {
        var a = _bed.Node("10.0.0.1");
        var target = Endpoint.FromAddressBytes([10, 0, 0, 50], 4242);
        _bed.Watch(target, new DiscoSealer(a.DiscoPrivate));
        var mirror = new DiscoPeer(NewNodeKey(), a.Bind.DiscoPublicKey, [target], 900);

        a.Bind.SetPeers([mirror]);

        Assert.Equal(0, _bed.PingsSent(a.Local, target));
        Assert.Equal("relay", a.Bind.GetStatus(mirror.NodeKey)!.Path);
    }

    public void Dispose() => _bed.Dispose();
}
