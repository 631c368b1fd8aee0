using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Trellis.Control.Store;

namespace Trellis.Control.Replicas;

/// <summary>
/// What a server on PostgreSQL needs to run as one of several replicas: its origin tag on every
/// connection, the change feed, the maintenance lease and its presence among the others.
/// SQLite servers have none of it.
/// </summary>
public sealed class ReplicaSetup : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source;
    private ReplicaPresence? _presence;

    private ReplicaSetup(string database)
    {
        Identity = ReplicaIdentity.New();
        ConnectionString = Identity.Tag(database);

        // The feed's listener, the lease and the presence lock each keep a session of their own:
        // unpooled, so closing one really ends its session and frees its locks.
        SessionConnectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString;
        _source = NpgsqlDataSource.Create(ConnectionString);
        Log = new ChangeLog(_source);
        Roster = new ReplicaRoster(_source, Identity);
    }

    public ReplicaIdentity Identity { get; }

    /// <summary>The configured connection string with this replica's origin: the store uses it.</summary>
    public string ConnectionString { get; }

    private string SessionConnectionString { get; }

    public ChangeLog Log { get; }

    public ReplicaRoster Roster { get; }

    /// <summary>Set by <see cref="JoinAsync"/>, before the feed starts.</summary>
    public ChangeCursor? Cursor { get; private set; }

    public static ReplicaSetup Create(string database) => new(database);

    /// <summary>
    /// Notes where this replica starts reading the change log (before the mesh is loaded, so
    /// nothing committed meanwhile is missed) and joins the running replicas; a replica that is
    /// alone marks every node offline first. True when it was alone.
    /// </summary>
    public async Task<bool> JoinAsync(ControlStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        Cursor = new ChangeCursor(await Log.StartingPointAsync(cancellationToken).ConfigureAwait(false), time, ChangeFeed.HoleTimeout);
        var alone = false;
        _presence = await ReplicaPresence.JoinAsync(
            SessionConnectionString,
            Identity.Origin,
            async () =>
            {
                alone = true;
                await store.MarkAllOfflineAsync(cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return alone;
    }

    /// <summary>The feed and the directory of replicas' URLs (hosted services), the log, the roster and the maintenance lease.</summary>
    public void AddServices(IServiceCollection services, TimeProvider networkTime)
    {
        services.AddSingleton(Log);
        services.AddSingleton(Roster);
        services.AddSingleton(Identity);
        services.AddSingleton(_ => new MaintenanceLease(SessionConnectionString));
        services.AddSingleton(s => ActivatorUtilities.CreateInstance<ChangeFeed>(
            s, Cursor ?? throw new InvalidOperationException("join the replicas before starting the feed"), SessionConnectionString, networkTime));
        services.AddSingleton<IHostedService>(s => s.GetRequiredService<ChangeFeed>());
        services.AddSingleton(s => ActivatorUtilities.CreateInstance<ReplicaDirectory>(s, networkTime));
        services.AddSingleton<IHostedService>(s => s.GetRequiredService<ReplicaDirectory>());
    }

    public async ValueTask DisposeAsync()
    {
        if (_presence is not null)
        {
            await _presence.DisposeAsync().ConfigureAwait(false);
        }

        await _source.DisposeAsync().ConfigureAwait(false);
    }
}
