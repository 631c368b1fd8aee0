using Trellis.Control.NodeProtocol;
using Trellis.Core.Control;
using Trellis.Crypto.Noise;

namespace Trellis.Control.Server;

/// <summary>
/// Everything `trellis server` can be told. Sources, strongest first: command-line flags,
/// TRELLIS_* environment variables, the YAML file (<see cref="ServerOptionsLoader"/>).
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Where Kestrel listens, e.g. http://0.0.0.0:8080 or https://[::]:443.</summary>
    public string Listen { get; init; } = "http://0.0.0.0:8080";

    /// <summary>The URL nodes use (behind a reverse proxy it differs from <see cref="Listen"/>).</summary>
    public string? PublicUrl { get; init; }

    public string DataDirectory { get; init; } = DefaultDataDirectory();

    public string? TlsCertificate { get; init; }

    public string? TlsKey { get; init; }

    /// <summary>A SQLite file path, or a PostgreSQL connection string ("Host=...;Username=...").</summary>
    public string? Database { get; init; }

    public string IPv4Prefix { get; init; } = "100.64.0.0/10";

    /// <summary>The ULA /48; null means generate one at first start and keep it.</summary>
    public string? IPv6Prefix { get; init; }

    /// <summary>The relay map as configured; empty means the embedded relay's own region (<see cref="EffectiveRelayMap"/>).</summary>
    public RelayMap RelayMap { get; init; } = new();

    /// <summary>Serve a relay at /relay and STUN on <see cref="StunPort"/> (on by default).</summary>
    public bool Relay { get; init; } = true;

    /// <summary>UDP port of the embedded STUN server; 0 turns it off.</summary>
    public int StunPort { get; init; } = 3478;

    /// <summary>
    /// The secret shared by this region's relays: they mesh with it, and standalone relays present it
    /// to this server to ask whether a node key may use them. Null: no standalone relays.
    /// </summary>
    public string? RelayMeshKey { get; init; }

    /// <summary>
    /// Where Prometheus scrapes /metrics (a listener of its own, e.g. 127.0.0.1:9090); null: no metrics
    /// listener. Separate from <see cref="Listen"/> so the numbers are not public by default.
    /// </summary>
    public System.Net.IPEndPoint? MetricsListen { get; init; }

    /// <summary>Route auto-approval: prefix -> users and tags ("tag:...") whose advertisements within it are approved.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AutoApprovers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>
    /// The access policy as a HuJSON file, reloaded when it changes; null keeps the policy in the
    /// database (`trellis policy set`), where the API may change it.
    /// </summary>
    public string? PolicyFile { get; init; }

    /// <summary>The mesh's names and resolvers, handed to every node with its map (normalized by the loader).</summary>
    public DnsConfig Dns { get; init; } = new() { BaseDomain = DnsConfig.DefaultBaseDomain };

    /// <summary>Ephemeral nodes are deleted after being offline this long.</summary>
    public TimeSpan EphemeralTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a node key is accepted after the node (re-)authenticated or was approved; null (the
    /// default) for no expiry. An expired node leaves the mesh until it registers again with a new
    /// node key and an auth key, or an admin approves it.
    /// </summary>
    public TimeSpan? NodeKeyExpiry { get; init; }

    /// <summary>How many nodes registered without an auth key may wait for approval at once.</summary>
    public int MaxPendingNodes { get; init; } = Store.ControlStoreOptions.DefaultMaxPendingNodes;

    /// <summary>A node registered without an auth key that nobody approves within this is deleted.</summary>
    public TimeSpan PendingNodeExpiry { get; init; } = TimeSpan.FromHours(24);

    /// <summary>A map stream sends a keepalive after this much silence.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Node connections held at once; more are refused (503) before the WebSocket upgrade.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// Node connections held at once from one IPv4 address or IPv6 /64 (429 beyond); 0 for no limit.
    /// A reverse proxy on this host is counted by its X-Forwarded-For; behind a proxy elsewhere, raise it or use 0.
    /// </summary>
    public int MaxConnectionsPerAddress { get; init; } = 64;

    /// <summary>A node must finish the Noise handshake within this after its WebSocket opens.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = ControlChannelAcceptOptions.DefaultHandshakeTimeout;

    /// <summary>A node connection that receives nothing, not even a WebSocket ping (nodes ping every 25 s), for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = NodeConnectionLimits.DefaultIdleTimeout;

    /// <summary>Largest control message a node may send, in bytes; a longer one closes its connection unread.</summary>
    public int MaxNodeMessage { get; init; } = MessageFramer.MaxNodeMessage;

    /// <summary>Single sign-on for node registration; null when the server has none.</summary>
    public Sso.SsoOptions? Sso { get; init; }

    /// <summary>The local admin socket: the CLI on the server host needs no API key there.</summary>
    public string? AdminSocket { get; init; }

    public bool UsesPostgres => Database is { } db && db.Contains('=', StringComparison.Ordinal);

    public string SqlitePath => UsesPostgres ? throw new InvalidOperationException("the database is PostgreSQL") : Database ?? Path.Combine(DataDirectory, "trellis.db");

    public string EffectiveAdminSocket => AdminSocket ?? Path.Combine(DataDirectory, "admin.sock");

    /// <summary>The URL nodes are told: the configured public URL, else the bound address (a wildcard read as loopback).</summary>
    public Uri PublicUrlFor(Uri bound) => new(PublicUrl ?? bound.ToString().Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal));

    /// <summary>The relay map nodes receive: the configured one, or the embedded relay as region 900 at <paramref name="url"/>.</summary>
    public RelayMap EffectiveRelayMap(Uri url)
    {
        if (RelayMap.Regions.Count > 0 || !Relay)
        {
            return RelayMap;
        }

        return new RelayMap
        {
            Regions =
            [
                new RelayRegion
                {
                    Id = EmbeddedRegionId,
                    Code = "default",
                    Name = "embedded in the control server",
                    Nodes = [new RelayNode { Name = "900a", Host = url.IdnHost, Port = url.Port, Tls = url.Scheme == "https", StunPort = StunPort }],
                },
            ],
        };
    }

    /// <summary>Self-hosted region ids are conventionally 900-999; the embedded relay takes the first.</summary>
    public const int EmbeddedRegionId = 900;

    private static string DefaultDataDirectory() =>
        Environment.IsPrivilegedProcess ? "/var/lib/trellis" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "trellis");
}
