using Trellis.Node.Daemon;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Tests;

/// <summary>TRELLIS_SOCKET, which a node verb reads when no --socket is given.</summary>
[Collection(ProcessEnvironment.Name)]
public sealed class SocketVariableTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("trellis-socket-variable-").FullName;

    private string Socket => Path.Combine(_root, "trellis.sock");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task TRELLIS_SOCKET_names_the_socket_when_no_flag_does()
    {
        var before = Environment.GetEnvironmentVariable(LocalApiSocket.EnvironmentVariable);
        Environment.SetEnvironmentVariable(LocalApiSocket.EnvironmentVariable, Socket);
        try
        {
            await using var daemon = await NodeDaemon.StartAsync(new NodeDaemonOptions
            {
                StateDirectory = Path.Combine(_root, "state"),
                SocketPath = Socket,
                EngineFactory = _ => new NodeVerbTests.RecordingEngine(),
            });
            var output = new StringWriter();

            // Off the test's synchronization context: CommandLine.Run blocks on the async verb.
            var code = await Task.Run(() => CommandLine.Run(["status"], output, new StringWriter()));

            Assert.Equal(0, code);
            Assert.StartsWith("stopped", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            Environment.SetEnvironmentVariable(LocalApiSocket.EnvironmentVariable, before);
        }
    }
}
