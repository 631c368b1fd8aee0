namespace Trellis.Discovery.Tests;

/// <summary>A delta's peers alone: <see cref="DiscoveryBind.UpdatePeers"/> updates peers already in the set and refuses anything else whole.</summary>
public sealed class UpdatePeersTests : IDisposable
{
    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_known_peer_given_new_candidates_is_reached_at_them_and_an_unknown_peer_or_new_disco_key_changes_nothing()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var c = _bed.Node("10.0.0.3");
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);

        // Neither lists a candidate for the other yet: no path until the map brings B's endpoint.
        a.Bind.SetPeers([b.AsPeer() with { Endpoints = [] }]);
        b.Bind.SetPeers([a.AsPeer() with { Endpoints = [] }]);
        Assert.Null(a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);

        Assert.True(a.Bind.UpdatePeers([b.AsPeer()]));
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b.Local, "A's direct path to B at its new candidate");

        // Not in the set, or a restarted node (a new disco key): the whole set is due (SetPeers), so nothing is done.
        Assert.False(a.Bind.UpdatePeers([b.AsPeer() with { Endpoints = [] }, c.AsPeer()]));
        Assert.Null(a.Bind.GetStatus(c.NodeKey));
        Assert.False(a.Bind.UpdatePeers([b.AsPeer() with { DiscoKey = c.AsPeer().DiscoKey }]));
        Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
    }

    public void Dispose() => _bed.Dispose();
}
