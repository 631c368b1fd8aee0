using Npgsql;

namespace Trellis.Control.Replicas;

/// <summary>
/// Names this server process in the change log. Every connection of the process carries the name
/// as the session setting <c>trellis.origin</c>, which the change-log trigger records, so a
/// replica skips the changes it already published itself.
/// </summary>
public sealed class ReplicaIdentity
{
    /// <summary>The session setting the MeshChangeFeed migration's trigger reads.</summary>
    public const string OriginSetting = "trellis.origin";

    private ReplicaIdentity(string origin) => Origin = origin;

    /// <summary>A fresh name for each process start: a restarted replica has published nothing yet.</summary>
    public string Origin { get; }

    public static ReplicaIdentity New() => new(Guid.NewGuid().ToString("N"));

    /// <summary>The connection string with this replica's origin added to its startup options.</summary>
    public string Tag(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var setting = $"-c {OriginSetting}={Origin}";
        builder.Options = string.IsNullOrWhiteSpace(builder.Options) ? setting : $"{builder.Options} {setting}";
        return builder.ConnectionString;
    }
}
