using System.Text.Json;
using Trellis.Node.LocalApi;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// A daemon's status JSON, read from its local API socket: what `trellis status --json` prints (the
/// CLI writes the daemon's answer unchanged), without starting a .NET process for each look. Tests
/// poll status every 100 ms; a CLI process per look cost about a quarter of a CPU-second, which on
/// 2 cores starved the daemons under test. The CLI's own verbs are tested in Trellis.Cli.Tests and
/// by the lab's other commands.
/// </summary>
internal static class DaemonStatus
{
    // A safety net for a busy machine, as the CLI's own command timeout.
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static async Task<JsonElement> ReadAsync(string socket)
    {
        using var client = new LocalApiClient(socket, Timeout);
        var json = await client.StatusJsonAsync(CancellationToken.None);
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
