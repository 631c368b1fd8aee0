namespace Trellis.Lab;

/// <summary>How <see cref="HostCommand"/> runs one command.</summary>
public sealed record CommandOptions
{
    // A safety net only: a CLI command costs about a CPU-second to start, and busy shared cores stretch that many times over.
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static CommandOptions Default { get; } = new();

    /// <summary>After this long the command (and its children) are killed and the result says TimedOut.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Text written to the command's stdin, which is then closed; null leaves stdin empty.</summary>
    public string? StandardInput { get; init; }

    /// <summary>Variables added to (or replacing those in) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
