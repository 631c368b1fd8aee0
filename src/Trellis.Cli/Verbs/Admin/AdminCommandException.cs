namespace Trellis.Cli.Verbs.Admin;

/// <summary>An admin verb failing with a message for stderr and the exit code to return.</summary>
internal sealed class AdminCommandException(string message, int exitCode = CommandLine.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public static AdminCommandException Usage(string message) => new(message, CommandLine.UsageError);
}
