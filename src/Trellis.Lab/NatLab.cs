using System.Globalization;

namespace Trellis.Lab;

/// <summary>
/// A small internet for NAT tests. One namespace is the internet's core: a bridge with
/// 198.51.100.1/24 and 2001:db8::1/64 (documentation ranges), forwarding between everything attached.
/// Public hosts sit on it directly; <see cref="NatRouter"/>s put their WAN on it (or on another router's
/// LAN) and their LAN behind a NAT or a stateful firewall. Every machine is its own namespace (named
/// like every lab namespace, so a crashed run's leftovers are found); disposing the lab deletes them all.
/// </summary>
public sealed class NatLab : IAsyncDisposable
{
    /// <summary>What the NAT lab runs besides the `trellis` CLI (root is needed too).</summary>
    public static readonly IReadOnlyList<string> RequiredTools = ["ip", "nft", "sysctl"];

    public static readonly LabAddress InternetIPv4 = LabAddress.Parse("198.51.100.1/24");
    public static readonly LabAddress InternetIPv6 = LabAddress.Parse("2001:db8::1/64");

    private readonly List<NetNamespace> _namespaces = [];
    private readonly List<NatRouter> _routers = [];
    private readonly List<NatHost> _hosts = [];
    private readonly string _prefix;
    private int _routerNumbers;
    private bool _disposed;

    private NatLab(string prefix) => _prefix = prefix;

    /// <summary>The internet's core segment (its namespace routes between all attached machines).</summary>
    public NatSegment Internet { get; private set; } = null!;

    public IReadOnlyList<NatRouter> Routers
    {
        get
        {
            lock (_routers)
            {
                return [.. _routers];
            }
        }
    }

    public IReadOnlyList<NatHost> Hosts
    {
        get
        {
            lock (_hosts)
            {
                return [.. _hosts];
            }
        }
    }

    public static async Task<NatLab> CreateAsync(string prefix = NetNamespace.DefaultPrefix, CancellationToken cancellationToken = default)
    {
        var lab = new NatLab(prefix);
        try
        {
            var core = await lab.CreateNamespaceAsync(cancellationToken).ConfigureAwait(false);
            (await core.ExecAsync("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"], CommandOptions.Default, cancellationToken)
                .ConfigureAwait(false)).EnsureSuccess();
            lab.Internet = await NatSegment.CreateAsync(core, "internet", InternetIPv4, InternetIPv6, cancellationToken).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A host on the internet itself, with a public IPv4 and IPv6 address and nothing in its way.</summary>
    public Task<NatHost> AddPublicHostAsync(CancellationToken cancellationToken = default) =>
        AddHostAsync(Internet, null, cancellationToken);

    /// <summary>A router on the internet; for <see cref="NatKind.Cgnat"/> the carrier's router is made too, as its <see cref="NatRouter.Upstream"/>.</summary>
    public Task<NatRouter> AddRouterAsync(NatKind kind, NatRouterOptions? options = null, CancellationToken cancellationToken = default) =>
        NatRouter.CreateAsync(this, null, kind, options ?? NatRouterOptions.Default, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        NetNamespace[] namespaces;
        lock (_namespaces)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            namespaces = [.. _namespaces];
        }

        // The newest first: hosts, then the routers they hang from, then the core.
        foreach (var ns in namespaces.Reverse())
        {
            await ns.DisposeAsync().ConfigureAwait(false);
        }
    }

    internal async Task<NatHost> AddHostAsync(NatSegment segment, NatRouter? router, CancellationToken cancellationToken)
    {
        var ns = await CreateNamespaceAsync(cancellationToken).ConfigureAwait(false);
        var (ipv4, ipv6) = segment.Allocate(ipv4: true, ipv6: true);
        await segment.AttachAsync(ns, NatHost.InterfaceName, ipv4, ipv6, cancellationToken).ConfigureAwait(false);
        var host = new NatHost(ns, ipv4, ipv6, router);
        lock (_hosts)
        {
            _hosts.Add(host);
        }

        return host;
    }

    internal async Task<NetNamespace> CreateNamespaceAsync(CancellationToken cancellationToken)
    {
        var ns = await NetNamespace.CreateAsync(_prefix, cancellationToken).ConfigureAwait(false);
        lock (_namespaces)
        {
            if (!_disposed)
            {
                _namespaces.Add(ns);
                return ns;
            }
        }

        await ns.DisposeAsync().ConfigureAwait(false);
        throw new ObjectDisposedException(nameof(NatLab));
    }

    internal int NextRouterNumber() => Interlocked.Increment(ref _routerNumbers);

    internal void Register(NatRouter router)
    {
        lock (_routers)
        {
            _routers.Add(router);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"NAT lab {Internet?.Namespace.Name} ({_routers.Count} routers, {_hosts.Count} hosts)");
}
