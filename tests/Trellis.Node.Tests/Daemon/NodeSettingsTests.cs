using Trellis.Node.LocalApi;
using Trellis.Node.Tests.Control;

namespace Trellis.Node.Tests.Daemon;

/// <summary>What `up` keeps, what `--reset` clears, and `set`: settings change only when asked.</summary>
public sealed class NodeSettingsTests : IAsyncLifetime
{
    private readonly DaemonHarness _harness = new();
    private TestControlServer _server = null!;

    public async Task InitializeAsync() => _server = await TestControlServer.StartAsync();

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _harness.Dispose();
    }

    private string ServerUrl => _server.Url.AbsoluteUri;

    [Fact]
    public async Task Down_then_up_keeps_the_advertised_routes_and_every_other_setting()
    {
        await using var daemon = await _harness.StartAsync();
        var settings = new NodeSettings { AdvertiseRoutes = ["10.99.0.0/24"], AcceptRoutes = true, Masquerade = false, PeerRelay = true };
        await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "office", Settings = settings }, CancellationToken.None);
        await daemon.DownAsync(CancellationToken.None);

        var up = await daemon.UpAsync(new UpRequest(), CancellationToken.None);
        Assert.Equal(NodeStates.Running, up.State);
        var prefs = daemon.Prefs();
        Assert.Equal(["10.99.0.0/24"], prefs.AdvertiseRoutes);
        Assert.Equal((true, false, true, "office"), (prefs.AcceptRoutes, prefs.Masquerade, prefs.PeerRelay, prefs.Hostname));
        var applied = _harness.Engines.Current.Applied[^1].Settings;
        Assert.Equal(["10.99.0.0/24"], applied.AdvertisedRoutes);
        Assert.True(applied.AcceptRoutes);
        var node = (await _server.Store.GetNodeByIdAsync(up.Status.Self!.Id))!;
        Assert.Equal(["10.99.0.0/24"], node.AdvertisedRoutes);
    }

    [Fact]
    public async Task Up_with_one_setting_keeps_the_others_and_reset_returns_them_to_their_defaults()
    {
        await using var daemon = await _harness.StartAsync();
        await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "router", Settings = new() { AdvertiseRoutes = ["10.99.0.0/24"] } }, CancellationToken.None);

        await daemon.UpAsync(new UpRequest { Settings = new() { AcceptRoutes = true } }, CancellationToken.None);
        Assert.Equal(["10.99.0.0/24"], daemon.Prefs().AdvertiseRoutes);
        Assert.True(daemon.Prefs().AcceptRoutes);

        await daemon.UpAsync(new UpRequest { Reset = true, Settings = new() { PortGuessing = false } }, CancellationToken.None);
        var prefs = daemon.Prefs();
        Assert.Equal((0, false, true, false, null), (prefs.AdvertiseRoutes.Count, prefs.AcceptRoutes, prefs.Masquerade, prefs.PortGuessing, prefs.Hostname));
    }

    [Fact]
    public async Task Up_again_with_a_used_single_use_key_succeeds_without_using_it_unless_forced()
    {
        await using var daemon = await _harness.StartAsync();
        var key = await _server.AuthKeyAsync(reusable: false);
        var first = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key, Hostname = "prov" }, CancellationToken.None);
        Assert.False(first.AuthKeyIgnored);

        var again = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = key, Hostname = "prov" }, CancellationToken.None);
        Assert.Equal((NodeStates.Running, true, first.Status.Self!.Id), (again.State, again.AuthKeyIgnored, again.Status.Self!.Id));

        var other = await _server.AuthKeyAsync(reusable: false);
        var forced = await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = other, Hostname = "prov", ForceReauth = true }, CancellationToken.None);
        Assert.Equal((NodeStates.Running, false), (forced.State, forced.AuthKeyIgnored));
        Assert.Equal(1, (await _server.Store.ListAuthKeysAsync()).Value!.Single(k => other.Contains(k.Prefix, StringComparison.Ordinal)).UseCount);
    }

    [Fact]
    public async Task Set_changes_one_setting_of_a_running_node_at_once_and_of_a_down_node_for_its_next_up()
    {
        await using var daemon = await _harness.StartAsync();
        await daemon.UpAsync(new UpRequest { Server = ServerUrl, AuthKey = await _server.AuthKeyAsync(), Hostname = "home", Settings = new() { AdvertiseRoutes = ["10.98.0.0/24"] } }, CancellationToken.None);

        var set = await daemon.SetAsync(new SetRequest { Settings = new() { AcceptRoutes = true } }, CancellationToken.None);
        Assert.Equal(["10.98.0.0/24"], set.AdvertiseRoutes);
        Assert.True(set.AcceptRoutes);
        Assert.True(_harness.Engines.Current.Applied[^1].Settings.AcceptRoutes);
        Assert.Equal(NodeStates.Running, daemon.Status().State);

        await daemon.DownAsync(CancellationToken.None);
        var applied = _harness.Engines.Current.Applied.Count;
        await daemon.SetAsync(new SetRequest { Settings = new() { AdvertiseRoutes = [] } }, CancellationToken.None);
        Assert.Equal(NodeStates.Stopped, daemon.Status().State);
        Assert.Equal(applied, _harness.Engines.Current.Applied.Count);

        var up = await daemon.UpAsync(new UpRequest(), CancellationToken.None);
        Assert.Empty(daemon.Prefs().AdvertiseRoutes);
        Assert.True(daemon.Prefs().AcceptRoutes);
        Assert.Empty((await _server.Store.GetNodeByIdAsync(up.Status.Self!.Id))!.AdvertisedRoutes);

        var bad = await Assert.ThrowsAsync<LocalApiException>(() => daemon.SetAsync(new SetRequest { Settings = new() { AdvertiseRoutes = ["10.0.0.1/8"] } }, CancellationToken.None));
        Assert.Equal(LocalApiErrors.Invalid, bad.Code);
        Assert.True(daemon.Prefs().AcceptRoutes);
    }
}
