using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Trellis.Cli;

/// <summary>How the long-running verbs (server, relay, daemon) write their logs: one line per event, stamped in UTC to the millisecond.</summary>
internal static class ConsoleLogging
{
    /// <summary>ISO 8601 in UTC, so lines from several hosts sort and compare without knowing their zones.</summary>
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public static ILoggingBuilder AddTrellisConsole(this ILoggingBuilder logging) =>
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = TimestampFormat;
            o.UseUtcTimestamp = true;
        });
}
