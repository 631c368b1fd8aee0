using Npgsql;

namespace Trellis.Control.Replicas;

/// <summary>
/// The change log's table ("MeshChanges", created with its triggers by the MeshChangeFeed
/// migration): where a replica starts reading, what it reads, and pruning. The triggers write it;
/// nothing here does, except <see cref="PruneAsync"/>.
/// </summary>
public sealed class ChangeLog(NpgsqlDataSource source)
{
    /// <summary>The channel every change is announced on, with its sequence number as payload.</summary>
    public const string Channel = "trellis_mesh";

    /// <summary>How long rows are kept: a replica cut off from the database for longer reloads the whole mesh instead.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(10);

    /// <summary>Changes made this long before start-up are read again, for transactions that were still open when the mesh was loaded.</summary>
    public static readonly TimeSpan StartLookback = TimeSpan.FromSeconds(30);

    /// <summary>At most this many rows per read; the reader asks again while reads come back full.</summary>
    public const int ReadBatch = 1000;

    /// <summary>Where a replica starting now begins: just before the changes of the last <see cref="StartLookback"/>, else after the last one.</summary>
    public async Task<long> StartingPointAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("""
            SELECT coalesce(
                (SELECT min("Seq") - 1 FROM "MeshChanges" WHERE "At" > now() - make_interval(secs => $1)),
                (SELECT max("Seq") FROM "MeshChanges"),
                0)
            """);
        command.Parameters.AddWithValue(StartLookback.TotalSeconds);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Rows after <paramref name="after"/>, in sequence order, at most <see cref="ReadBatch"/>.</summary>
    public async Task<IReadOnlyList<MeshChange>> ReadAfterAsync(long after, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("""
            SELECT "Seq", "Kind", "SubjectId", "Origin" FROM "MeshChanges" WHERE "Seq" > $1 ORDER BY "Seq" LIMIT $2
            """);
        command.Parameters.AddWithValue(after);
        command.Parameters.AddWithValue(ReadBatch);
        return await ReadAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The named rows (late commits of numbers given up as holes).</summary>
    public async Task<IReadOnlyList<MeshChange>> ReadAsync(IReadOnlyList<long> seqs, CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("""
            SELECT "Seq", "Kind", "SubjectId", "Origin" FROM "MeshChanges" WHERE "Seq" = ANY($1) ORDER BY "Seq"
            """);
        command.Parameters.AddWithValue(seqs.ToArray());
        return await ReadAsync(command, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes rows older than <see cref="Retention"/>; done by the maintenance lease holder.</summary>
    public async Task<int> PruneAsync(CancellationToken cancellationToken)
    {
        await using var command = source.CreateCommand("""DELETE FROM "MeshChanges" WHERE "At" < now() - make_interval(secs => $1)""");
        command.Parameters.AddWithValue(Retention.TotalSeconds);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<MeshChange>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<MeshChange>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(new MeshChange(reader.GetInt64(0), (MeshChangeKind)reader.GetInt16(1), reader.GetInt64(2), reader.GetString(3)));
        }

        return rows;
    }
}
