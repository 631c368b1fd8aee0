namespace Trellis.Lab;

/// <summary>How <see cref="HostCommand"/> runs one command.</summary>
public sealed record CommandOptions
{
    // A safety net only: a CLI command costs about a CPU-second to start, and busy shared cores stretch that many times over.
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static CommandOptions Default { get; } = new();

    /// <summary>
    /// For `trellis up`, which answers only once the node's first map is applied (engine, relay, DNS), and
    /// whose daemon gives that up to a minute of its own (NodeDaemonOptions.UpTimeout): the default net
    /// alone is shorter than the product's patience. At load 36-81 one took 14 s to reach the daemon and
    /// 33 s from "Running" to its first map applied, and was killed at 60 s just after it printed "connected".
    /// </summary>
    public static CommandOptions Up { get; } = new() { Timeout = DefaultTimeout + TimeSpan.FromSeconds(60) };

    /// <summary>After this long the command (and its children) are killed and the result says TimedOut.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Text written to the command's stdin, which is then closed; null leaves stdin empty.</summary>
    public string? StandardInput { get; init; }

    /// <summary>Variables added to (or replacing those in) the inherited environment.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
