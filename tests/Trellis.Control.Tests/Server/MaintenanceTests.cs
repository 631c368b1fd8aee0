using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Server;
using Trellis.Control.Store;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.Tests.Server;

/// <summary>The maintenance sweeps across a server restart and through a failing database.</summary>
public sealed class MaintenanceTests : IAsyncLifetime
{
    private static readonly TimeSpan EphemeralTimeout = TimeSpan.FromMinutes(5);

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-maintenance-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 8, 0, 0, TimeSpan.Zero));
    private readonly ServerOptions _options = new() { EphemeralTimeout = EphemeralTimeout };
    private TestContexts _contexts = null!;

    public async Task InitializeAsync()
    {
        var path = Path.Combine(_dir, "trellis.db");
        await TrellisDbContextFactory.SqliteFile(path).MigrateAsync();
        _contexts = new TestContexts(path);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>What `trellis server` builds at start: a store, the mesh loaded from it, the sweeper.</summary>
    private async Task<(ControlService Service, MaintenanceService Maintenance)> StartServerAsync(ILogger<MaintenanceService>? logger = null)
    {
        var store = new ControlStore(_contexts, _clock);
        await store.InitializeAsync();
        var service = new ControlService(store, new MeshState(() => new RelayMap(), ["100.64.0.0/10"]), _clock, NullLogger<ControlService>.Instance);
        await service.LoadAsync(CancellationToken.None);
        return (service, new MaintenanceService(service, _options, _clock, logger ?? NullLogger<MaintenanceService>.Instance));
    }

    private static async Task<Node> RegisterEphemeralAsync(ControlStore store)
    {
        var user = await store.CreateUserAsync("ci");
        var key = await store.CreateAuthKeyAsync(user.Value!.Name, null, reusable: true, ephemeral: true, null);
        var result = await store.RegisterNodeAsync(new RegistrationRequest(key.Value!.Plaintext, NewKey(), NewKey(), NewKey(), "runner"));
        return Assert.IsType<RegistrationResult.Registered>(result).Node;
    }

    private static Key NewKey() => new(System.Security.Cryptography.RandomNumberGenerator.GetBytes(Key.Size));

    [Fact]
    public async Task An_ephemeral_node_is_not_deleted_for_the_time_the_server_was_down()
    {
        var (before, _) = await StartServerAsync();
        var runner = await RegisterEphemeralAsync(before.Store);
        await before.Store.SetOnlineAsync(runner.Id, true);

        // The server crashes with the runner connected and stays down far longer than the timeout.
        _clock.Advance(TimeSpan.FromHours(1));
        var (after, maintenance) = await StartServerAsync();

        await maintenance.SweepAsync(CancellationToken.None);
        Assert.NotNull(await after.Store.GetNodeByIdAsync(runner.Id));
        Assert.NotNull(after.Mesh.Get(runner.Id));

        // The clock started when the server came back: a runner that never returns goes after the timeout.
        _clock.Advance(EphemeralTimeout - TimeSpan.FromSeconds(1));
        await maintenance.SweepAsync(CancellationToken.None);
        Assert.NotNull(await after.Store.GetNodeByIdAsync(runner.Id));

        _clock.Advance(TimeSpan.FromSeconds(1));
        await maintenance.SweepAsync(CancellationToken.None);
        Assert.Null(await after.Store.GetNodeByIdAsync(runner.Id));
        Assert.Null(after.Mesh.Get(runner.Id));
    }

    [Fact]
    public async Task A_failing_sweep_is_logged_and_tried_again_at_the_next_tick()
    {
        var logger = new RecordingLogger<MaintenanceService>();
        var (service, maintenance) = await StartServerAsync(logger);
        var runner = await RegisterEphemeralAsync(service.Store);
        _clock.Advance(EphemeralTimeout);

        using var stop = new CancellationTokenSource();
        var loop = maintenance.RunAsync(stop.Token);
        _contexts.Failing = true;
        _clock.Advance(MaintenanceService.Period);
        var failure = await logger.WaitForAsync((level, _) => level == LogLevel.Error);

        Assert.Contains("maintenance sweep failed", failure, StringComparison.Ordinal);
        Assert.Contains("disk is full", logger.Entries.Single(e => e.Level == LogLevel.Error).Exception?.Message, StringComparison.Ordinal);
        Assert.False(loop.IsCompleted, "the sweeper stopped after one failure");

        _contexts.Failing = false;
        _clock.Advance(MaintenanceService.Period);
        await logger.WaitForAsync((_, message) => message.Contains("ephemeral node runner deleted", StringComparison.Ordinal));

        Assert.Null(await service.Store.GetNodeByIdAsync(runner.Id));
        Assert.False(loop.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => loop);
    }
}
