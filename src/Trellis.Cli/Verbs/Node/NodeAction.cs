using System.CommandLine;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>What a node verb's body works with.</summary>
internal sealed record NodeInvocation(ParseResult Parse, LocalApiClient Client, TextWriter Output, CancellationToken CancellationToken);

/// <summary>
/// The verbs that talk to the local daemon (up, down, logout, status): each takes --socket (default
/// $TRELLIS_SOCKET, else the daemon's default), and a failure becomes one line on stderr.
/// </summary>
internal static class NodeAction
{
    public static Option<string?> SocketOption() => new("--socket")
    {
        Description = $"The daemon's local API socket (default: ${LocalApiSocket.EnvironmentVariable}, else {LocalApiSocket.DefaultPath}).",
    };

    public static void SetNodeAction(this Command command, Option<string?> socket, string name, Func<NodeInvocation, Task<int>> body)
    {
        command.Options.Add(socket);
        command.SetAction(async (parse, ct) =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                using var client = new LocalApiClient(LocalApiSocket.Resolve(parse.GetValue(socket)));
                return await body(new NodeInvocation(parse, client, parse.InvocationConfiguration.Output, ct)).ConfigureAwait(false);
            }
            catch (LocalApiException e)
            {
                await error.WriteLineAsync($"trellis {name}: {e.Message}").ConfigureAwait(false);
                return e.Code == LocalApiErrors.Invalid ? CommandLine.UsageError : CommandLine.Failure;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                await error.WriteLineAsync($"trellis {name}: interrupted").ConfigureAwait(false);
                return CommandLine.Failure;
            }
        });
    }
}
