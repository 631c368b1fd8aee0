using Trellis.Node.Daemon;
using Trellis.Node.LocalApi;
using Trellis.Node.Tests.Control;

namespace Trellis.Node.Tests.Daemon;

/// <summary>What the local API says while the daemon starts, and what it says about the daemon's memory.</summary>
public sealed class DaemonStartTests : IDisposable
{
    private readonly DaemonHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task The_local_API_answers_starting_before_the_data_plane_exists_and_holds_commands_until_it_does()
    {
        var creating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var mayCreate = new ManualResetEventSlim();
        var options = _harness.Options() with
        {
            EngineFactory = args =>
            {
                creating.TrySetResult();
                mayCreate.Wait(Waiting.Timeout);
                return _harness.Engines.Create(args);
            },
        };

        var starting = Task.Run(() => NodeDaemon.StartAsync(options));
        await creating.Task.WaitAsync(Waiting.Timeout); // the engine is created after the local API listens
        using var client = new LocalApiClient(_harness.SocketPath);
        Assert.Equal(NodeStates.Starting, (await client.StatusAsync(CancellationToken.None)).State);

        // A command given now waits for the start-up to finish: its answer comes from a started daemon.
        async Task<(StatusResponse Answer, int Engines)> DownAsync()
        {
            var answer = await client.DownAsync(CancellationToken.None);
            return (answer, _harness.Engines.Engines.Count);
        }

        var down = DownAsync();
        mayCreate.Set();
        await using var daemon = await starting;
        var (answer, engines) = await down.WaitAsync(Waiting.Timeout);
        Assert.Equal(1, engines);
        Assert.Equal(NodeStates.Stopped, answer.State);
        Assert.Equal(NodeStates.Stopped, daemon.Status().State);
    }

    [Fact]
    public async Task Status_reports_the_managed_heap_after_the_latest_collection_and_the_latest_full_one()
    {
        await using var daemon = await _harness.StartAsync();
        GC.Collect(); // the figures are the latest collection's; the daemon's process is this test's
        using var client = new LocalApiClient(_harness.SocketPath);
        var memory = (await client.StatusAsync(CancellationToken.None)).Memory;
        Assert.NotNull(memory);
        Assert.True(memory.GcHeapBytes > 0, $"heap {memory.GcHeapBytes}");
        Assert.True(memory.GcCommittedBytes > 0, $"committed {memory.GcCommittedBytes}");
        Assert.True(memory.GcCollections > 0, $"collections {memory.GcCollections}");
        Assert.True(memory.GcFullCollections > 0, $"full collections {memory.GcFullCollections}");
        Assert.InRange(memory.GcLiveAfterFullBytes, 1, memory.GcCommittedBytes);
    }
}
