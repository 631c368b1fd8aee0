namespace Trellis.Discovery.Tests;

/// <summary>Joins and leaves alone: <see cref="DiscoveryBind.ChangePeers"/> adds and removes peers, keeping the others, and refuses a change it cannot make alone whole.</summary>
public sealed class ChangePeersTests : IDisposable
{
    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_peer_added_is_reached_a_peer_removed_is_forgotten_and_the_others_keep_their_paths()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var c = _bed.Node("10.0.0.3");
        foreach (var node in new[] { a, b, c })
        {
            node.Bind.SetLocalEndpoints([node.Local]);
        }

        a.Bind.SetPeers([b.AsPeer()]);
        b.Bind.SetPeers([a.AsPeer()]);
        c.Bind.SetPeers([a.AsPeer()]);
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b.Local, "A's direct path to B");
        var bSynthetic = a.Bind.SyntheticEndpointOf(b.NodeKey);

        Assert.True(a.Bind.ChangePeers([c.AsPeer()], []));
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(c.NodeKey)?.DirectEndpoint == c.Local, "A's direct path to C, added alone");
        Assert.Equal(bSynthetic, a.Bind.SyntheticEndpointOf(b.NodeKey));
        Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
        Assert.NotEqual(bSynthetic, a.Bind.SyntheticEndpointOf(c.NodeKey));

        Assert.True(a.Bind.ChangePeers([], [b.NodeKey]));
        Assert.Null(a.Bind.GetStatus(b.NodeKey));
        Assert.Null(a.Bind.SyntheticEndpointOf(b.NodeKey));
        Assert.Equal(c.Local, a.Bind.GetStatus(c.NodeKey)!.DirectEndpoint);
    }

    [Fact]
    public void A_peer_already_there_a_disco_key_someone_holds_or_an_unknown_peer_removed_changes_nothing()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var c = _bed.Node("10.0.0.3");
        var d = _bed.Node("10.0.0.4");
        a.Bind.SetPeers([b.AsPeer()]);

        Assert.False(a.Bind.ChangePeers([c.AsPeer(), b.AsPeer()], []));
        Assert.False(a.Bind.ChangePeers([c.AsPeer() with { DiscoKey = b.AsPeer().DiscoKey }], []));
        Assert.False(a.Bind.ChangePeers([c.AsPeer() with { DiscoKey = a.AsPeer().DiscoKey }], []));
        Assert.False(a.Bind.ChangePeers([c.AsPeer()], [d.NodeKey]));
        Assert.Null(a.Bind.GetStatus(c.NodeKey));
        Assert.NotNull(a.Bind.GetStatus(b.NodeKey));
    }

    public void Dispose() => _bed.Dispose();
}
