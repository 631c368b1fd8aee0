using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Trellis.Lab;

/// <summary>
/// A home (or carrier) router of a <see cref="NatLab"/>: a namespace with a "wan" interface on the
/// segment above it and a "lan" bridge below, forwarding between them with the nftables ruleset of
/// its <see cref="NatKind"/>. Hosts and further routers attach to its LAN.
/// </summary>
public sealed partial class NatRouter
{
    public const string WanInterface = "wan";
    public const string LanInterface = "lan";

    private readonly NatLab _lab;

    private NatRouter(NatLab lab, NatKind kind, NetNamespace ns, NatSegment lan, NatRouter? upstream, LabAddress? wanIPv4, LabAddress? wanIPv6, LabProcess? miniUpnpd)
    {
        MiniUpnpd = miniUpnpd;
        _lab = lab;
        Kind = kind;
        Namespace = ns;
        Lan = lan;
        Upstream = upstream;
        WanIPv4 = wanIPv4;
        WanIPv6 = wanIPv6;
    }

    public NatKind Kind { get; }

    public NetNamespace Namespace { get; }

    /// <summary>The LAN segment (the "lan" bridge, holding the router's LAN addresses).</summary>
    public NatSegment Lan { get; }

    /// <summary>The router this one sits behind (the carrier's, for <see cref="NatKind.Cgnat"/>); null when it is on the internet.</summary>
    public NatRouter? Upstream { get; }

    /// <summary>The router's own WAN addresses: public on the internet, 100.64.x.y behind a carrier.</summary>
    public LabAddress? WanIPv4 { get; }

    public LabAddress? WanIPv6 { get; }

    /// <summary>The router's miniupnpd (NAT-PMP and PCP on its LAN address) when <see cref="NatRouterOptions.PortMapping"/> asked for one.</summary>
    public LabProcess? MiniUpnpd { get; }

    /// <summary>The IPv4 address the internet sees this router's LAN behind: the outermost router's WAN address.</summary>
    public IPAddress? PublicIPv4 => Upstream?.PublicIPv4 ?? WanIPv4?.Address;

    public override string ToString() => $"{Kind} router {Namespace.Name} wan {WanIPv4} {WanIPv6}".TrimEnd();

    /// <summary>A new machine on this router's LAN, with an address of each family the LAN has.</summary>
    public Task<NatHost> AddHostAsync(CancellationToken cancellationToken = default) =>
        _lab.AddHostAsync(Lan, this, cancellationToken);

    /// <summary>A router behind this one (double NAT). IPv4 only: the lab routes IPv6 to routers on the internet alone.</summary>
    public Task<NatRouter> AddRouterAsync(NatKind kind, NatRouterOptions? options = null, CancellationToken cancellationToken = default) =>
        CreateAsync(_lab, this, kind, options ?? NatRouterOptions.Default, cancellationToken);

    /// <summary>Packets of new inbound flows the router dropped on its INPUT hook (unsolicited traffic to its WAN address).</summary>
    public async Task<long> ReadUnsolicitedDropsAsync(CancellationToken cancellationToken = default)
    {
        var chain = (await Namespace.ExecAsync("nft", ["list", "chain", "inet", NatRules.FilterTable, "input"], CommandOptions.Default, cancellationToken)
            .ConfigureAwait(false)).EnsureSuccess().StandardOutput;
        var match = DropCounter().Match(chain);
        return match.Success
            ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"no '{NatRules.UnsolicitedComment}' counter in router {Namespace.Name}'s input chain:\n{chain}");
    }

    /// <summary>Builds a router of <paramref name="kind"/> on the internet (<paramref name="upstream"/> null) or behind another router.</summary>
    internal static async Task<NatRouter> CreateAsync(NatLab lab, NatRouter? upstream, NatKind kind, NatRouterOptions options, CancellationToken cancellationToken)
    {
        if (kind == NatKind.Cgnat)
        {
            if (options.IPv6)
            {
                throw new NotSupportedException("the lab's CGNAT is IPv4 only");
            }

            var carrierNumber = lab.NextRouterNumber();
            var carrierLan = LabAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"100.64.{carrierNumber}.1/24"));
            var carrier = await CreateOneAsync(lab, upstream, NatKind.Easy, carrierNumber, new NatRouterOptions { LanIPv4 = carrierLan }, cancellationToken).ConfigureAwait(false);
            return await CreateOneAsync(lab, carrier, NatKind.Cgnat, lab.NextRouterNumber(), options, cancellationToken).ConfigureAwait(false);
        }

        return await CreateOneAsync(lab, upstream, kind, lab.NextRouterNumber(), options, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<NatRouter> CreateOneAsync(
        NatLab lab,
        NatRouter? upstream,
        NatKind kind,
        int number,
        NatRouterOptions options,
        CancellationToken cancellationToken)
    {
        var ipv4 = kind != NatKind.IPv6Firewall;
        var ipv6 = kind == NatKind.IPv6Firewall || options.IPv6;
        if (ipv6 && upstream is not null)
        {
            throw new NotSupportedException("IPv6 is routed only to routers on the internet itself, not behind another router");
        }

        if (options.PortMapping && !ipv4)
        {
            throw new NotSupportedException("the lab's port mapping (miniupnpd) is for IPv4 NATs");
        }

        if (number > 255)
        {
            throw new InvalidOperationException("a NatLab numbers at most 255 routers");
        }

        var above = upstream?.Lan ?? lab.Internet;
        var ns = await lab.CreateNamespaceAsync(cancellationToken).ConfigureAwait(false);
        var (wanIPv4, wanIPv6) = above.Allocate(ipv4, ipv6);
        await above.AttachAsync(ns, WanInterface, wanIPv4, wanIPv6, cancellationToken).ConfigureAwait(false);
        (await ns.ExecAsync("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"], CommandOptions.Default, cancellationToken)
            .ConfigureAwait(false)).EnsureSuccess();

        var lanIPv4 = ipv4 ? options.LanIPv4 ?? LabAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"192.168.{number}.1/24")) : null;
        var lanIPv6 = ipv6 ? LabAddress.Parse(string.Create(CultureInfo.InvariantCulture, $"2001:db8:{number:x}::1/64")) : null;
        var lan = await NatSegment.CreateAsync(ns, LanInterface, lanIPv4, lanIPv6, cancellationToken).ConfigureAwait(false);
        if (lanIPv6 is not null)
        {
            var prefix = NatSegment.Host(lanIPv6, 0);
            await lab.Internet.Namespace.IpAsync(cancellationToken, "-6", "route", "add", prefix.ToString(), "via", wanIPv6!.Address.ToString()).ConfigureAwait(false);
        }

        var rules = NatRules.For(kind, ipv4, options.PortMapping);
        (await ns.ExecAsync("nft", ["-f", "-"], new CommandOptions { StandardInput = rules }, cancellationToken).ConfigureAwait(false)).EnsureSuccess();

        var miniUpnpd = options.PortMapping
            ? await Lab.MiniUpnpd.StartAsync(ns, wanIPv4!.Address, lanIPv4!, cancellationToken).ConfigureAwait(false)
            : null;
        var router = new NatRouter(lab, kind, ns, lan, upstream, wanIPv4, wanIPv6, miniUpnpd);
        lab.Register(router);
        return router;
    }

    [GeneratedRegex("counter packets (\\d+) bytes \\d+ drop comment \"" + NatRules.UnsolicitedComment + "\"")]
    private static partial Regex DropCounter();
}
