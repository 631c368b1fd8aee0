namespace Trellis.Control.Admin;

/// <summary>
/// The server's health as the console shows it. Nodes: active ones (approved, key not expired) and
/// those streaming their map now. Database: "sqlite" or "postgresql". Policy source: "database",
/// "file" (with <see cref="PolicyFile"/>) or "none".
/// </summary>
public sealed record ServerInfoDto(
    string Version,
    string Commit,
    string Runtime,
    DateTimeOffset StartedAt,
    long UptimeSeconds,
    int Nodes,
    int NodesOnline,
    string Database,
    bool Relay,
    int? StunPort,
    string PolicySource,
    string? PolicyFile,
    bool SingleSignOn);
