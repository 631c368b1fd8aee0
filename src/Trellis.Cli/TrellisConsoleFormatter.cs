using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Trellis.Cli;

/// <summary>
/// One line per event for operators: `2026-12-04T22:30:00.123Z info  daemon: message`. The source is
/// the part of the code it came from (daemon, mesh, relay...), not a .NET category name; an exception
/// adds its message on the same line, never a stack trace.
/// </summary>
public sealed class TrellisConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "trellis";

    public override void Write<TState>(in LogEntry<TState> logEntry, Microsoft.Extensions.Logging.IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (message is null && logEntry.Exception is null)
        {
            return;
        }

        textWriter.Write(DateTimeOffset.UtcNow.ToString(ConsoleLogging.TimestampFormat, System.Globalization.CultureInfo.InvariantCulture));
        textWriter.Write(Level(logEntry.LogLevel));
        textWriter.Write(Source(logEntry.Category));
        textWriter.Write(": ");
        textWriter.Write(OneLine(message));
        if (logEntry.Exception is { } e)
        {
            textWriter.Write(" (");
            textWriter.Write(OneLine(e.Message));
            textWriter.Write(')');
        }

        textWriter.WriteLine();
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace ",
        LogLevel.Debug => "debug ",
        LogLevel.Information => "info  ",
        LogLevel.Warning => "warn  ",
        LogLevel.Error => "error ",
        LogLevel.Critical => "crit  ",
        _ => "      ",
    };

    /// <summary>
    /// "Trellis.Node.Daemon.NodeDaemon" is "daemon", "Trellis.Discovery.DiscoveryBind" is "discovery",
    /// ASP.NET Core's and EF Core's own lines are "http" and "store".
    /// </summary>
    public static string Source(string category)
    {
        if (category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal))
        {
            return "http";
        }

        if (category.StartsWith("Microsoft.EntityFrameworkCore", StringComparison.Ordinal))
        {
            return "store";
        }

        var parts = category.Split('.');
        if (parts.Length >= 3 && parts[0] == "Trellis")
        {
            // The namespace the type lives in, below its project: Trellis.PROJECT[.ROOM].Type.
            return (parts.Length >= 4 ? parts[^2] : parts[1]).ToLowerInvariant();
        }

        return parts[^1].ToLowerInvariant();
    }

    private static string OneLine(string? text) =>
        text is null ? string.Empty : text.Contains('\n', StringComparison.Ordinal) ? text.ReplaceLineEndings(" | ") : text;
}
