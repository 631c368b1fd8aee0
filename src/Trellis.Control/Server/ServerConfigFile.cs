using Trellis.Core.Control;

namespace Trellis.Control.Server;

/// <summary>The YAML file's shape (hyphenated keys), read by <see cref="ServerOptionsLoader"/>.</summary>
internal sealed class ServerConfigFile
{
    public string? Listen { get; set; }

    public string? PublicUrl { get; set; }

    public string? DataDir { get; set; }

    public string? TlsCert { get; set; }

    public string? TlsKey { get; set; }

    public string? Database { get; set; }

    public string? Ipv4Prefix { get; set; }

    public string? Ipv6Prefix { get; set; }

    public string? EphemeralTimeout { get; set; }

    public string? Keepalive { get; set; }

    public string? AdminSocket { get; set; }

    public string? Relay { get; set; }

    public string? StunPort { get; set; }

    public string? RelayMeshKey { get; set; }

    public string? MaxConnections { get; set; }

    public string? MaxConnectionsPerAddress { get; set; }

    public string? HandshakeTimeout { get; set; }

    public string? IdleTimeout { get; set; }

    public string? MaxNodeMessage { get; set; }
    public string? NodeKeyExpiry { get; set; }

    public string? MaxPendingNodes { get; set; }

    public string? PendingNodeExpiry { get; set; }

    public string? PolicyFile { get; set; }

    public string? MetricsListen { get; set; }

    public List<RelayRegionFile>? RelayRegions { get; set; }

    public DnsFile? Dns { get; set; }

    public Dictionary<string, List<string>>? AutoApprovers { get; set; }

    public OidcFile? Oidc { get; set; }

    public IEnumerable<(string Key, string Value)> Scalars()
    {
        (string, string?)[] all =
        [
            ("listen", Listen), ("public-url", PublicUrl), ("data-dir", DataDir), ("tls-cert", TlsCert), ("tls-key", TlsKey),
            ("database", Database), ("ipv4-prefix", Ipv4Prefix), ("ipv6-prefix", Ipv6Prefix),
            ("ephemeral-timeout", EphemeralTimeout), ("keepalive", Keepalive), ("admin-socket", AdminSocket),
            ("relay", Relay), ("stun-port", StunPort), ("relay-mesh-key", RelayMeshKey),
            ("max-connections", MaxConnections), ("max-connections-per-address", MaxConnectionsPerAddress),
            ("handshake-timeout", HandshakeTimeout), ("idle-timeout", IdleTimeout), ("max-node-message", MaxNodeMessage),
            ("node-key-expiry", NodeKeyExpiry), ("max-pending-nodes", MaxPendingNodes), ("pending-node-expiry", PendingNodeExpiry),
            ("policy-file", PolicyFile), ("metrics-listen", MetricsListen),
        ];
        return all.Where(kv => kv.Item2 is not null).Select(kv => (kv.Item1, kv.Item2!));
    }
}

internal sealed class RelayRegionFile
{
    public int Id { get; set; }

    public string Code { get; set; } = "";

    public string? Name { get; set; }

    public List<RelayNodeFile> Nodes { get; set; } = [];

    public RelayRegion ToRegion() => new()
    {
        Id = Id,
        Code = Code,
        Name = Name,
        Nodes = Nodes.Select(n => new RelayNode { Name = n.Name, Host = n.Host, Port = n.Port, Tls = n.Tls, StunPort = n.StunPort, IPv4 = n.Ipv4, IPv6 = n.Ipv6 }).ToList(),
    };
}

internal sealed class RelayNodeFile
{
    public string Name { get; set; } = "";

    public string Host { get; set; } = "";

    public int Port { get; set; } = 443;

    public bool Tls { get; set; } = true;

    public int StunPort { get; set; } = 3478;

    public string? Ipv4 { get; set; }

    public string? Ipv6 { get; set; }
}

/// <summary>The file's `dns:` section.</summary>
internal sealed class DnsFile
{
    public string? BaseDomain { get; set; }

    public List<string>? SearchDomains { get; set; }

    public List<string>? Nameservers { get; set; }

    public Dictionary<string, List<string>>? SplitDns { get; set; }

    public Dictionary<string, string>? ExtraRecords { get; set; }

    public DnsConfig ToConfig(DnsConfig current) => current with
    {
        BaseDomain = BaseDomain ?? current.BaseDomain,
        SearchDomains = SearchDomains ?? current.SearchDomains,
        Nameservers = Nameservers ?? current.Nameservers,
        SplitDns = SplitDns?.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)(kv.Value ?? [])) ?? current.SplitDns,
        ExtraRecords = ExtraRecords?.Select(kv => new DnsExtraRecord(kv.Key, kv.Value)).ToList() ?? current.ExtraRecords,
    };
}

/// <summary>The file's `oidc:` section; the client secret is read from <see cref="ClientSecretFile"/> or the environment.</summary>
internal sealed class OidcFile
{
    public string? Issuer { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecretFile { get; set; }

    public List<string>? Scopes { get; set; }

    public List<string>? AllowedDomains { get; set; }

    public List<string>? AllowedUsers { get; set; }

    public List<string>? AllowedGroups { get; set; }

    public List<string>? AdminUsers { get; set; }

    public List<string>? AdminGroups { get; set; }

    public string? GroupsClaim { get; set; }

    public string? NodeKeyExpiry { get; set; }

    public string? LoginTimeout { get; set; }
}
