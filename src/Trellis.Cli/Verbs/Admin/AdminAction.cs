using System.CommandLine;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>What an admin verb's body works with.</summary>
internal sealed record AdminInvocation(ParseResult Parse, AdminClient Client, TextWriter Output, bool Json, CancellationToken CancellationToken);

internal static class AdminAction
{
    /// <summary>
    /// Runs <paramref name="body"/> with a connected client; an <see cref="AdminCommandException"/>
    /// becomes one line on stderr ("trellis users create: ...") and its exit code.
    /// </summary>
    public static void SetAdminAction(this Command command, AdminOptions options, string name, Func<AdminInvocation, Task> body) =>
        command.SetAction(async (parse, ct) =>
        {
            var error = parse.InvocationConfiguration.Error;
            try
            {
                using var client = options.Connect(parse);
                await body(new AdminInvocation(parse, client, parse.InvocationConfiguration.Output, parse.GetValue(options.Json), ct)).ConfigureAwait(false);
                return CommandLine.Success;
            }
            catch (AdminCommandException e)
            {
                await error.WriteLineAsync($"trellis {name}: {e.Message}").ConfigureAwait(false);
                return e.ExitCode;
            }
        });
}
