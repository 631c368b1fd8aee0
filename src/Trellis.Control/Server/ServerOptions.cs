using Trellis.Core.Control;

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

    public RelayMap RelayMap { get; init; } = new();

    /// <summary>Route auto-approval: prefix -> users and tags ("tag:...") whose advertisements within it are approved.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> AutoApprovers { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Ephemeral nodes are deleted after being offline this long.</summary>
    public TimeSpan EphemeralTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>A map stream sends a keepalive after this much silence.</summary>
    public TimeSpan KeepaliveInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The local admin socket: the CLI on the server host needs no API key there.</summary>
    public string? AdminSocket { get; init; }

    public bool UsesPostgres => Database is { } db && db.Contains('=', StringComparison.Ordinal);

    public string SqlitePath => UsesPostgres ? throw new InvalidOperationException("the database is PostgreSQL") : Database ?? Path.Combine(DataDirectory, "trellis.db");

    public string EffectiveAdminSocket => AdminSocket ?? Path.Combine(DataDirectory, "admin.sock");

    public string EffectivePublicUrl => PublicUrl ?? Listen.Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal).Replace("[::]", "[::1]", StringComparison.Ordinal);

    private static string DefaultDataDirectory() =>
        Environment.IsPrivilegedProcess ? "/var/lib/trellis" : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "trellis");
}
