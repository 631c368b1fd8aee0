using System.CommandLine;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// The node's setting flags, shared by `up` and `set` so both spell them alike. `up` is declarative,
/// as Tailscale users expect: flags it does not mention mean their defaults, so an `up` that would
/// quietly turn off a setting made earlier is refused and names the command that keeps it.
/// </summary>
internal sealed class SettingFlags
{
    public Option<string?> Hostname { get; } = new("--hostname") { Description = "The name to register under (default: the machine's host name)." };

    public Option<string[]> AdvertiseRoutes { get; } = new("--advertise-routes")
    {
        Description = "Subnets to offer the mesh, comma-separated or repeated (e.g. 192.168.1.0/24); --advertise-routes= offers none.",
    };

    public Option<bool> AcceptRoutes { get; } = new("--accept-routes") { Description = "Use the subnet routes other nodes advertise (--accept-routes=false: don't)." };

    public Option<bool> AcceptDns { get; } = new("--accept-dns")
    {
        Description = "Point this host's resolver at the mesh's, so peers resolve by name (default true; --accept-dns=false leaves the host's DNS alone).",
        DefaultValueFactory = _ => true,
    };

    public Option<bool> NoMasquerade { get; } = new("--no-masquerade") { Description = "Forward into advertised subnets without masquerading (their router must route the overlay back)." };

    public Option<bool> NoPortGuessing { get; } = new("--no-port-guessing")
    {
        Description = "Never guess ports to reach a peer behind the other kind of NAT (an easy and a hard one); such a pair then stays on the relay. Guessing costs up to 1000 small pings or 256 short-lived sockets per attempt.",
    };

    public Option<bool> PeerRelay { get; } = new("--peer-relay")
    {
        Description = "Relay over UDP for peers that cannot reach each other directly (both behind NATs that map per destination), while this node has a public or port-mapped endpoint. Such a pair is then much faster than over the relay server; this node forwards their encrypted packets, at most 1 Gbit/s per side of 256 pairs.",
    };

    public Option<bool> AdvertiseExitNode { get; } = new("--advertise-exit-node")
    {
        Description = "Offer this node as an exit node: other nodes may send all their internet traffic through it, once an admin approves (trellis routes approve NODE 0.0.0.0/0 ::/0). It then sees that traffic.",
    };

    public Option<string?> ExitNode { get; } = new("--exit-node")
    {
        // ZeroOrOne so that "--exit-node=" (no exit node) parses instead of asking for a value.
        Arity = ArgumentArity.ZeroOrOne,
        Description = "Send all internet traffic, IPv4 and IPv6, through this exit node (a peer's name or overlay address); --exit-node= sends it directly again. While the exit node is unreachable that traffic is dropped, not sent around it.",
    };

    public Option<bool> ExitNodeAllowLanAccess { get; } = new("--exit-node-allow-lan-access")
    {
        Description = "With --exit-node, keep the directly connected LAN (printers, the router) local instead of sending it through the exit node.",
    };

    public Option<string?> MetricsListen { get; } = new("--metrics-listen")
    {
        Arity = ArgumentArity.ZeroOrOne,
        Description = "Serve this node's Prometheus metrics at http://ADDRESS:PORT/metrics, e.g. 127.0.0.1:9092 (an IP address and a port); --metrics-listen= stops serving them.",
    };

    public IEnumerable<Option> All(bool withHostname) =>
        withHostname
            ? [Hostname, AdvertiseRoutes, AcceptRoutes, AcceptDns, NoMasquerade, NoPortGuessing, PeerRelay, AdvertiseExitNode, ExitNode, ExitNodeAllowLanAccess, MetricsListen]
            : [AdvertiseRoutes, AcceptRoutes, AcceptDns, NoMasquerade, NoPortGuessing, PeerRelay, AdvertiseExitNode, ExitNode, ExitNodeAllowLanAccess, MetricsListen];

    /// <summary>Only the settings given on the command line; the rest null.</summary>
    public NodeSettings Given(ParseResult parse) => new()
    {
        AdvertiseRoutes = IsGiven(parse, AdvertiseRoutes) ? Routes(parse.GetValue(AdvertiseRoutes)) : null,
        AcceptRoutes = IsGiven(parse, AcceptRoutes) ? parse.GetValue(AcceptRoutes) : null,
        AcceptDns = IsGiven(parse, AcceptDns) ? parse.GetValue(AcceptDns) : null,
        Masquerade = IsGiven(parse, NoMasquerade) ? !parse.GetValue(NoMasquerade) : null,
        PortGuessing = IsGiven(parse, NoPortGuessing) ? !parse.GetValue(NoPortGuessing) : null,
        PeerRelay = IsGiven(parse, PeerRelay) ? parse.GetValue(PeerRelay) : null,
        AdvertiseExitNode = IsGiven(parse, AdvertiseExitNode) ? parse.GetValue(AdvertiseExitNode) : null,
        ExitNode = IsGiven(parse, ExitNode) ? parse.GetValue(ExitNode) ?? "" : null,
        ExitNodeAllowLanAccess = IsGiven(parse, ExitNodeAllowLanAccess) ? parse.GetValue(ExitNodeAllowLanAccess) : null,
        MetricsListen = IsGiven(parse, MetricsListen) ? parse.GetValue(MetricsListen) ?? "" : null,
    };

    public static bool IsGiven(ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    public static bool AnyGiven(NodeSettings settings) =>
        settings.AdvertiseRoutes is not null || settings.AcceptRoutes is not null || settings.AcceptDns is not null || settings.Masquerade is not null
        || settings.PortGuessing is not null || settings.PeerRelay is not null
        || settings.AdvertiseExitNode is not null || settings.ExitNode is not null || settings.ExitNodeAllowLanAccess is not null
        || settings.MetricsListen is not null;

    /// <summary>
    /// The saved settings (and hostname) this `up` would return to their defaults because it does not
    /// mention them, as the flags that keep them; empty when nothing would be lost.
    /// </summary>
    public static List<string> WouldReset(PrefsResponse saved, NodeSettings given, bool hostnameGiven)
    {
        var lost = new List<string>();
        if (!hostnameGiven && saved.Hostname is { } name)
        {
            lost.Add($"--hostname={name}");
        }

        if (given.AdvertiseRoutes is null && saved.AdvertiseRoutes.Count > 0)
        {
            lost.Add($"--advertise-routes={string.Join(',', saved.AdvertiseRoutes)}");
        }

        if (given.AcceptRoutes is null && saved.AcceptRoutes)
        {
            lost.Add("--accept-routes");
        }

        if (given.AcceptDns is null && !saved.AcceptDns)
        {
            lost.Add("--accept-dns=false");
        }

        if (given.Masquerade is null && !saved.Masquerade)
        {
            lost.Add("--no-masquerade");
        }

        if (given.PortGuessing is null && !saved.PortGuessing)
        {
            lost.Add("--no-port-guessing");
        }

        if (given.PeerRelay is null && saved.PeerRelay)
        {
            lost.Add("--peer-relay");
        }

        if (given.AdvertiseExitNode is null && saved.AdvertiseExitNode)
        {
            lost.Add("--advertise-exit-node");
        }

        if (given.ExitNode is null && saved.ExitNode is { } exit)
        {
            lost.Add($"--exit-node={exit}");
        }

        if (given.ExitNodeAllowLanAccess is null && saved.ExitNodeAllowLanAccess)
        {
            lost.Add("--exit-node-allow-lan-access");
        }

        if (given.MetricsListen is null && saved.MetricsListen is { } metrics)
        {
            lost.Add($"--metrics-listen={metrics}");
        }

        return lost;
    }

    /// <summary>The saved settings (and hostname) that differ from their defaults, as the flags that set them.</summary>
    public static List<string> NonDefault(PrefsResponse saved) => WouldReset(saved, new NodeSettings(), hostnameGiven: false);

    /// <summary>The given settings as flags, in the order of <see cref="WouldReset"/>, for the command that keeps everything.</summary>
    public static List<string> AsFlags(NodeSettings given, string? hostname)
    {
        var flags = new List<string>();
        if (hostname is not null)
        {
            flags.Add($"--hostname={hostname}");
        }

        if (given.AdvertiseRoutes is { } routes)
        {
            flags.Add($"--advertise-routes={string.Join(',', routes)}");
        }

        if (given.AcceptRoutes is { } accept)
        {
            flags.Add(accept ? "--accept-routes" : "--accept-routes=false");
        }

        if (given.AcceptDns is { } dns)
        {
            flags.Add(dns ? "--accept-dns" : "--accept-dns=false");
        }

        if (given.Masquerade is { } masquerade)
        {
            flags.Add(masquerade ? "--no-masquerade=false" : "--no-masquerade");
        }

        if (given.PortGuessing is { } guessing)
        {
            flags.Add(guessing ? "--no-port-guessing=false" : "--no-port-guessing");
        }

        if (given.PeerRelay is { } relay)
        {
            flags.Add(relay ? "--peer-relay" : "--peer-relay=false");
        }

        if (given.AdvertiseExitNode is { } offer)
        {
            flags.Add(offer ? "--advertise-exit-node" : "--advertise-exit-node=false");
        }

        if (given.ExitNode is { } exit)
        {
            flags.Add($"--exit-node={exit}");
        }

        if (given.ExitNodeAllowLanAccess is { } lan)
        {
            flags.Add(lan ? "--exit-node-allow-lan-access" : "--exit-node-allow-lan-access=false");
        }

        if (given.MetricsListen is { } metrics)
        {
            flags.Add($"--metrics-listen={metrics}");
        }

        return flags;
    }

    private static List<string> Routes(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
}
