namespace Trellis.Node.State;

/// <summary>
/// What the user asked for with `trellis up` (and `down`), kept across restarts. The auth key is
/// not among them: it is a secret, often single-use, and worthless once the node is registered.
/// </summary>
public sealed record NodePrefs
{
    /// <summary>The control server's URL (http or https), or null before the first `up`.</summary>
    public string? ServerUrl { get; init; }

    /// <summary>
    /// The control server's public Noise key (base64), pinned at the first `up` (trust on first use) or
    /// given with --server-key; a server presenting another key is refused. Null until first connected.
    /// </summary>
    public string? ServerKey { get; init; }

    /// <summary>The name asked for at registration (the server may add a suffix); null: the machine's name.</summary>
    public string? Hostname { get; init; }

    public IReadOnlyList<string> AdvertiseRoutes { get; init; } = [];

    public bool AcceptRoutes { get; init; }

    /// <summary>Point the host's resolver at the mesh's (off: `up --accept-dns=false`; the mesh resolver still answers at its address).</summary>
    public bool AcceptDns { get; init; } = true;

    /// <summary>Masquerade mesh traffic into advertised subnets (off: the LAN must route the overlay back itself).</summary>
    public bool Masquerade { get; init; } = true;

    /// <summary>Port guessing toward peers behind the other kind of NAT (off: `up --no-port-guessing`).</summary>
    public bool PortGuessing { get; init; } = true;

    /// <summary>Relay over UDP for peers that cannot reach each other directly (`up --peer-relay`; offered only with a public or port-mapped endpoint).</summary>
    public bool PeerRelay { get; init; }

    /// <summary>Offer this node as an exit node (`up --advertise-exit-node`): 0.0.0.0/0 and ::/0 are advertised beside <see cref="AdvertiseRoutes"/>.</summary>
    public bool AdvertiseExitNode { get; init; }

    /// <summary>The peer all internet traffic goes through (`up --exit-node NAME|IP`), as given; null: none.</summary>
    public string? ExitNode { get; init; }

    /// <summary>With an exit node, keep the directly connected LAN local (`--exit-node-allow-lan-access`).</summary>
    public bool ExitNodeAllowLanAccess { get; init; }

    /// <summary>Where the daemon serves Prometheus metrics (`--metrics-listen ADDRESS:PORT`); null: nowhere (the default).</summary>
    public string? MetricsListen { get; init; }

    /// <summary>What this node advertises to the server: its subnet routes, and the default routes when it offers to be an exit node.</summary>
    public IReadOnlyList<string> AdvertisedToServer() =>
        AdvertiseExitNode ? [.. AdvertiseRoutes, .. Trellis.Core.Control.ExitRoutes.Texts.Where(r => !AdvertiseRoutes.Contains(r))] : AdvertiseRoutes;

    /// <summary>True after `up`, false after `down` or `logout`: whether a (re)started daemon connects.</summary>
    public bool WantUp { get; init; }
}
