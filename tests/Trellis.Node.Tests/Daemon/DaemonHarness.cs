using Trellis.Node.Daemon;
using Trellis.Node.State;

namespace Trellis.Node.Tests.Daemon;

/// <summary>A temporary state directory and socket for daemons with fake engines, fast control timings.</summary>
internal sealed class DaemonHarness : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("trellis-daemon-").FullName;

    public string StateDirectory => Path.Combine(_root, "state");

    public string SocketPath => Path.Combine(_root, "run", "trellis.sock");

    public FakeEngineFactory Engines { get; } = new();

    public NodeDaemonOptions Options(string? stateDirectory = null, string? socketPath = null) => new()
    {
        StateDirectory = stateDirectory ?? StateDirectory,
        SocketPath = socketPath ?? SocketPath,
        TunName = "trellis-test",
        EngineFactory = Engines.Create,
        UpTimeout = TimeSpan.FromSeconds(60), // a safety net only: at a load of 60 on 2 cores a registration took over 15 s
        ConfigureControl = o => o with
        {
            PendingRecheckInterval = TimeSpan.FromMilliseconds(100),
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            ConnectTimeout = TimeSpan.FromSeconds(60), // the first handshake of a busy test run can take longer than 5 s
        },
    };

    public Task<NodeDaemon> StartAsync() => NodeDaemon.StartAsync(Options());

    /// <summary>Edits the state directory as a previous daemon would have left it (no daemon may be running).</summary>
    public void Seed(Action<StateDirectory> edit)
    {
        using var state = Trellis.Node.State.StateDirectory.Open(StateDirectory);
        edit(state);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
