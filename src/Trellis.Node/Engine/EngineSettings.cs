namespace Trellis.Node.Engine;

/// <summary>The node's own choices that shape how a map is applied.</summary>
public sealed record EngineSettings
{
    /// <summary>Install routes to peers' approved subnet routes (off: only overlay addresses go through Trellis).</summary>
    public bool AcceptRoutes { get; init; }

    /// <summary>Prefixes this node advertises; once approved it forwards between the mesh and them.</summary>
    public IReadOnlyList<string> AdvertisedRoutes { get; init; } = [];

    /// <summary>Masquerade traffic from the mesh into advertised prefixes as this node's LAN address.</summary>
    public bool Masquerade { get; init; } = true;

    /// <summary>Port guessing between an easy and a hard NAT (on unless `up --no-port-guessing`).</summary>
    public bool PortGuessing { get; init; } = true;

    /// <summary>The exit node (name, full name or overlay address) all internet traffic goes through; null: none.</summary>
    public string? ExitNode { get; init; }

    /// <summary>With an exit node, the LAN's directly connected prefixes stay local instead of going through it.</summary>
    public bool ExitNodeAllowLanAccess { get; init; }

    /// <summary>Relay over UDP for peers that cannot reach each other directly (`up --peer-relay`).</summary>
    public bool PeerRelay { get; init; }
}
