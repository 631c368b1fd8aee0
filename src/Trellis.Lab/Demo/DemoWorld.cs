namespace Trellis.Lab.Demo;

/// <summary>
/// The demo's world: a <see cref="NatLab"/> internet, `trellis server` (control, relay and STUN) on a
/// public host, the four cities' daemons each behind its own kind of network, and a LAN behind
/// amsterdam. Every machine is a namespace and every program a real `trellis` process; disposing
/// stops them all and deletes the namespaces and the temporary directory.
/// </summary>
public sealed class DemoWorld : IAsyncDisposable
{
    public const string User = "demo";
    public const string SubnetCity = "amsterdam";
    public const string RouteClientCity = "singapore";

    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The LAN behind amsterdam, its gateway (amsterdam's side) and the host on it.</summary>
    public static readonly LabAddress SubnetGateway = LabAddress.Parse("192.168.200.1/24");
    public static readonly LabAddress SubnetHost = LabAddress.Parse("192.168.200.10/24");
    public const string SubnetPrefix = "192.168.200.0/24";

    private readonly TrellisExecutable _trellis;
    private readonly TrellisExecutable _node;
    private readonly Action<string> _progress;
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-demo-").FullName;
    private readonly List<DemoDevice> _devices = [];
    private NatLab? _lab;
    private NatHost _serverHost = null!;
    private LabProcess? _server;

    private DemoWorld(TrellisExecutable trellis, TrellisExecutable node, Action<string> progress)
    {
        _trellis = trellis;
        _node = node;
        _progress = progress;
    }

    public IReadOnlyList<DemoDevice> Devices => _devices;

    public string ServerUrl => LabControlServer.Url(_serverHost);

    /// <summary>The same server for IPv6-only sites.</summary>
    public string ServerUrlV6 => LabControlServer.UrlV6(_serverHost);

    public string AdminSocket => Path.Combine(ServerDataDirectory, "admin.sock");

    /// <summary>The control server's process, for the benches that watch its memory.</summary>
    public int ServerProcessId => _server?.Id ?? throw new InvalidOperationException("the server has not started");

    private string ServerDataDirectory => Path.Combine(_directory, "server");

    /// <summary>Builds the internet, the server and the four daemons (not yet up). Disposes what it made if it fails.</summary>
    /// <param name="node">The executable of the daemons and their verbs (e.g. `trellis-node`); default <paramref name="trellis"/>.</param>
    public static async Task<DemoWorld> CreateAsync(TrellisExecutable trellis, Action<string> progress, CancellationToken cancellationToken, TrellisExecutable? node = null)
    {
        ArgumentNullException.ThrowIfNull(trellis);
        ArgumentNullException.ThrowIfNull(progress);
        await NetNamespace.DeleteLeftoversAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        var world = new DemoWorld(trellis, node ?? trellis, progress);
        try
        {
            await world.BuildAsync(cancellationToken).ConfigureAwait(false);
            return world;
        }
        catch
        {
            await world.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public DemoDevice Device(string name) => _devices.Single(d => d.Name == name);

    /// <summary>An admin verb over the server's admin socket (no API key needed there), run on the server host.</summary>
    public async Task<CommandResult> AdminAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var result = await _serverHost.Namespace.ExecAsync(
            _trellis.FileName, [.. _trellis.LeadingArguments, .. arguments, "--admin-socket", AdminSocket], CommandOptions.Default, cancellationToken)
            .ConfigureAwait(false);
        return result.EnsureSuccess();
    }

    /// <summary>`trellis up` on every device at once, with the server URL of a family its site has.</summary>
    public async Task UpAllAsync(string authKey, CancellationToken cancellationToken)
    {
        await Task.WhenAll(_devices.Select(async device =>
        {
            string[] extra = device.Name switch
            {
                SubnetCity => ["--advertise-routes", SubnetPrefix],
                RouteClientCity => ["--accept-routes"],
                _ => [],
            };
            var server = device.Host.IPv4 is null ? ServerUrlV6 : ServerUrl;
            await device.UpAsync(server, authKey, extra, cancellationToken).ConfigureAwait(false);
            _progress($"{device.Name} is up as {device.OverlayIPv4}" + (extra.Length > 0 ? $" ({string.Join(' ', extra)})" : ""));
        })).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        // Daemons first (they take their TUN devices down), then the server; the namespaces go with the lab.
        foreach (var device in _devices.Where(d => d.Daemon is not null))
        {
            await device.Daemon.StopAsync().ConfigureAwait(false);
        }

        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
        }

        if (_lab is not null)
        {
            await _lab.DisposeAsync().ConfigureAwait(false);
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory is all that is left.
        }
    }

    private async Task BuildAsync(CancellationToken cancellationToken)
    {
        _lab = await NatLab.CreateAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        _progress($"internet: 198.51.100.0/24 and 2001:db8::/64 ({_lab.Internet.Namespace.Name})");
        _serverHost = await _lab.AddPublicHostAsync(cancellationToken).ConfigureAwait(false);
        await StartServerAsync(cancellationToken).ConfigureAwait(false);
        _progress($"control server, relay and STUN at {ServerUrl} and {ServerUrlV6}");

        foreach (var city in DemoCity.All)
        {
            var host = await AddSiteAsync(city, cancellationToken).ConfigureAwait(false);
            _devices.Add(new DemoDevice(city, host, Path.Combine(_directory, city.Name), _node));
            var addresses = string.Join(" and ", new[] { host.IPv4?.Address, host.IPv6?.Address }.Where(a => a is not null));
            _progress($"{city.Name}: {city.Network}, at {addresses} ({host.Namespace.Name})");
        }

        await AddSubnetAsync(Device(SubnetCity), cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_devices.Select(d => d.StartDaemonAsync(cancellationToken))).ConfigureAwait(false);
        _progress("4 daemons running, none joined yet");
    }

    private async Task<NatHost> AddSiteAsync(DemoCity city, CancellationToken cancellationToken)
    {
        if (city.Kind is not { } kind)
        {
            return await _lab!.AddPublicHostAsync(cancellationToken).ConfigureAwait(false);
        }

        var router = await _lab!.AddRouterAsync(kind, new NatRouterOptions { IPv6 = city.IPv6 }, cancellationToken).ConfigureAwait(false);
        return await router.AddHostAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A LAN only <paramref name="device"/> can reach: one more namespace on a veth pair, routed through it.</summary>
    private async Task AddSubnetAsync(DemoDevice device, CancellationToken cancellationToken)
    {
        var lanHost = await _lab!.CreateNamespaceAsync(cancellationToken).ConfigureAwait(false);
        await VethLink.CreateAsync(device.Host.Namespace, lanHost, SubnetGateway, null, SubnetHost, null, cancellationToken).ConfigureAwait(false);
        await lanHost.IpAsync(cancellationToken, "route", "add", "default", "via", SubnetGateway.Address.ToString()).ConfigureAwait(false);
        _progress($"{device.Name}'s LAN: {SubnetPrefix}, a host at {SubnetHost.Address} ({lanHost.Name})");
    }

    private async Task StartServerAsync(CancellationToken cancellationToken) =>
        _server = await LabControlServer.StartAsync(_trellis, _serverHost, ServerDataDirectory, cancellationToken).ConfigureAwait(false);
}
