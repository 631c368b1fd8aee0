using Trellis.Node.Daemon;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Daemon;

/// <summary>An engine that records every map it is given and reports whatever paths a test sets.</summary>
internal sealed class FakeEngine : IEngine
{
    private readonly Lock _lock = new();
    private readonly List<(NetMap Map, EngineSettings Settings)> _applied = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public FakeEngine(EngineFactoryArgs args) => Args = args;

    public EngineFactoryArgs Args { get; }

    public ushort ListenPort => 41641;

    public IReadOnlyList<string> PublicEndpoints { get; set; } = [];

    public bool PubliclyReachable { get; set; }

    /// <summary>What a ping to any peer answers; null: no answer.</summary>
    public EnginePing? PingAnswer { get; set; }

    public Task<EnginePing?> PingAsync(string nodeKey, CancellationToken cancellationToken) => Task.FromResult(PingAnswer);

    public event Action? PublicEndpointsChanged;

    public void ChangePublicEndpoints(params string[] endpoints)
    {
        PublicEndpoints = endpoints;
        PublicEndpointsChanged?.Invoke();
    }

    public int HomeRegion { get; private set; }

    public event Action? HomeRegionChanged;

    /// <summary>As the engine does when netcheck or a failed relay moves its home.</summary>
    public void ChangeHomeRegion(int region)
    {
        HomeRegion = region;
        HomeRegionChanged?.Invoke();
    }

    public bool Disposed { get; private set; }

    public IReadOnlyList<PeerStatus> Paths { get; set; } = [];

    public IReadOnlyList<(NetMap Map, EngineSettings Settings)> Applied
    {
        get
        {
            lock (_lock)
            {
                return [.. _applied];
            }
        }
    }

    public NetMap? Last => Applied is [.., var last] ? last.Map : null;

    public Task ApplyAsync(NetMap map, EngineSettings settings, CancellationToken cancellationToken)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _applied.Add((map, settings));
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
        return Task.CompletedTask;
    }

    public EngineStatus Status() => new(Paths);

    /// <summary>Waits until the last applied map satisfies <paramref name="condition"/>.</summary>
    public async Task<NetMap> WaitForAsync(Func<NetMap, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_applied is [.., var last] && condition(last.Map))
                {
                    return last.Map;
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero || await Task.WhenAny(changed, Task.Delay(left)) != changed)
            {
                Assert.Fail($"timed out waiting for the engine to get {what}");
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>The factory a daemon under test gets: it keeps every engine it made.</summary>
internal sealed class FakeEngineFactory
{
    private readonly List<FakeEngine> _engines = [];

    public IReadOnlyList<FakeEngine> Engines
    {
        get
        {
            lock (_engines)
            {
                return [.. _engines];
            }
        }
    }

    public FakeEngine Current => Engines[^1];

    public IEngine Create(EngineFactoryArgs args)
    {
        var engine = new FakeEngine(args);
        lock (_engines)
        {
            _engines.Add(engine);
        }

        return engine;
    }
}
