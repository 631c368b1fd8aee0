using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Trellis.Control.AccessControl;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Replicas;

/// <summary>
/// Keeps this replica's live mesh in step with every other replica's writes: LISTEN on the change
/// log's channel -> read the rows after the cursor (after every notification, every
/// <see cref="PollPeriod"/>, and after a reconnect) -> apply the other replicas' rows in sequence
/// order (a node is read back and published; a user's nodes are; the stored policy is put in
/// force). Applying reads the store as it is now, so a row applied twice or late does no harm.
/// A replica that could not read for longer than the log keeps rows republishes everything.
/// </summary>
public sealed partial class ChangeFeed(
    ChangeLog log,
    ChangeCursor cursor,
    string listenConnectionString,
    ReplicaIdentity identity,
    ControlService service,
    PolicyService policy,
    TimeProvider time,
    ILogger<ChangeFeed> logger) : BackgroundService
{
    /// <summary>Reads even without a notification this often: holes time out, and a dead connection shows.</summary>
    public static readonly TimeSpan PollPeriod = TimeSpan.FromSeconds(2);

    /// <summary>A number missing below committed ones for this long is taken to be a rolled-back transaction's.</summary>
    public static readonly TimeSpan HoleTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    // Written by Npgsql's notification callback, drained by the loop.
    private readonly ConcurrentQueue<long> _notified = new();

    // Touched only by the loop.
    private long? _lastReadAt;

    // Subjects whose application failed (the database went away mid-read): applied again at the next catch-up. Touched only by the loop.
    private readonly HashSet<(MeshChangeKind Kind, long SubjectId)> _retry = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogFeedInterrupted(logger, ReconnectDelay, e);
                await Task.Delay(ReconnectDelay, time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        await using var connection = new NpgsqlConnection(listenConnectionString);
        await connection.OpenAsync(stoppingToken).ConfigureAwait(false);
        connection.Notification += (_, e) =>
        {
            if (long.TryParse(e.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
            {
                _notified.Enqueue(seq);
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {ChangeLog.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(stoppingToken).ConfigureAwait(false);
        }

        // Listening before reading: a change committed in between is both read and notified, never neither.
        if (_lastReadAt is { } last && time.GetElapsedTime(last) > ChangeLog.Retention / 2)
        {
            await RepublishEverythingAsync(stoppingToken).ConfigureAwait(false);
        }

        while (true)
        {
            await CatchUpAsync(stoppingToken).ConfigureAwait(false);
            await connection.WaitAsync(PollPeriod, stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads and applies everything after the cursor, and late commits of given-up holes that were notified.</summary>
    internal async Task CatchUpAsync(CancellationToken cancellationToken)
    {
        foreach (var (kind, subject) in _retry.ToList())
        {
            _retry.Remove((kind, subject));
            await ApplyOneAsync(kind, subject, 0).ConfigureAwait(false);
        }

        List<long>? late = null;
        while (_notified.TryDequeue(out var seq))
        {
            if (cursor.WasGivenUp(seq))
            {
                (late ??= []).Add(seq);
            }
        }

        if (late is not null)
        {
            await ApplyAsync(cursor.Take(await log.ReadAsync(late, cancellationToken).ConfigureAwait(false))).ConfigureAwait(false);
        }

        // From the watermark (holes below applied rows are read again), then on past each full read.
        var after = cursor.Watermark;
        IReadOnlyList<MeshChange> rows;
        do
        {
            var readAt = time.GetTimestamp();
            rows = await log.ReadAfterAsync(after, cancellationToken).ConfigureAwait(false);
            _lastReadAt = readAt;
            await ApplyAsync(cursor.Take(rows)).ConfigureAwait(false);
            after = rows.Count > 0 ? rows[^1].Seq : after;
        }
        while (rows.Count == ChangeLog.ReadBatch);

        cursor.Advance();
    }

    /// <summary>Applies rows in order; a subject named several times in one read is applied once, at its last place.</summary>
    private async Task ApplyAsync(IReadOnlyList<MeshChange> rows)
    {
        var last = new Dictionary<(MeshChangeKind, long), long>();
        foreach (var row in rows)
        {
            if (row.Origin != identity.Origin)
            {
                last[(row.Kind, row.SubjectId)] = row.Seq;
            }
        }

        foreach (var row in rows)
        {
            if (row.Origin == identity.Origin || last[(row.Kind, row.SubjectId)] != row.Seq)
            {
                continue;
            }

            await ApplyOneAsync(row.Kind, row.SubjectId, row.Seq).ConfigureAwait(false);
        }
    }

    /// <summary>Makes the mesh say what the store says about one subject; a failure is kept for the next catch-up, never lost.</summary>
    private async Task ApplyOneAsync(MeshChangeKind kind, long subject, long seq)
    {
        try
        {
            switch (kind)
            {
                case MeshChangeKind.Node:
                    await service.PublishAsync(subject).ConfigureAwait(false);
                    break;
                case MeshChangeKind.User:
                    foreach (var nodeId in await service.Store.NodeIdsOfUserAsync(subject).ConfigureAwait(false))
                    {
                        await service.PublishAsync(nodeId).ConfigureAwait(false);
                    }

                    break;
                case MeshChangeKind.Policy:
                    await policy.ReloadStoredAsync(CancellationToken.None).ConfigureAwait(false);
                    break;
                default:
                    LogUnknownKind(logger, (short)kind, seq);
                    return;
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _retry.Add((kind, subject));
            LogApplyFailed(logger, kind, subject, e);
        }
    }

    /// <summary>After an absence longer than the log remembers: every node the store or the mesh holds is published again.</summary>
    private async Task RepublishEverythingAsync(CancellationToken cancellationToken)
    {
        LogRepublishing(logger);
        var nodes = await service.Store.ListNodesAsync(null, cancellationToken).ConfigureAwait(false);
        var ids = new HashSet<long>((nodes.Value ?? []).Select(n => n.Id));
        ids.UnionWith(service.Mesh.NodeIds);
        foreach (var id in ids)
        {
            await service.PublishAsync(id).ConfigureAwait(false);
        }

        await policy.ReloadStoredAsync(cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "the change feed from the database was interrupted; listening again in {Delay}")]
    private static partial void LogFeedInterrupted(ILogger logger, TimeSpan delay, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "change log row {Seq} has kind {Kind}, which this server does not know (a newer replica's?); skipped")]
    private static partial void LogUnknownKind(ILogger logger, short kind, long seq);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not apply another replica's change of {Kind} {Subject}; trying again at the next read")]
    private static partial void LogApplyFailed(ILogger logger, MeshChangeKind kind, long subject, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "this replica could not read the change log for longer than it keeps rows; publishing every node again")]
    private static partial void LogRepublishing(ILogger logger);
}
