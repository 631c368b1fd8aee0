namespace Trellis.Lab;

/// <summary>The outcome of one finished (or timed-out) command.</summary>
/// <param name="CommandLine">The command as it was run, for messages only (never re-parsed).</param>
/// <param name="ExitCode">The exit code; -1 when the command timed out and was killed.</param>
/// <param name="StandardOutput">Everything the command wrote to stdout.</param>
/// <param name="StandardError">Everything the command wrote to stderr.</param>
/// <param name="TimedOut">True when the command was killed because it ran past its timeout.</param>
public sealed record CommandResult(
    string CommandLine,
    int ExitCode,
    string StandardOutput,
    string StandardError,
    bool TimedOut)
{
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>Returns this result, or throws <see cref="LabCommandException"/> when the command failed.</summary>
    public CommandResult EnsureSuccess() => Succeeded ? this : throw new LabCommandException(this);

    public override string ToString()
    {
        var status = TimedOut ? "timed out" : $"exit code {ExitCode}";
        return $"`{CommandLine}` ({status})"
            + (StandardOutput.Length > 0 ? $"\nstdout: {StandardOutput.TrimEnd()}" : "")
            + (StandardError.Length > 0 ? $"\nstderr: {StandardError.TrimEnd()}" : "");
    }
}
