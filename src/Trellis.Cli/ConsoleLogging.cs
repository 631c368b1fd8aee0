using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Trellis.Cli;

/// <summary>
/// How the long-running verbs (server, relay, daemon) write their logs: one line per event, stamped in
/// UTC to the millisecond (<see cref="TrellisConsoleFormatter"/>), or one JSON object per line for collectors.
/// </summary>
internal static class ConsoleLogging
{
    /// <summary>ISO 8601 in UTC, so lines from several hosts sort and compare without knowing their zones.</summary>
    public const string TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";

    public const string Text = "text";
    public const string Json = "json";

    /// <summary>The formats <c>--log-format</c> takes.</summary>
    public static readonly string[] Formats = [Text, Json];

    /// <summary>`--log-format text|json` (default: $TRELLIS_LOG_FORMAT, else text), shared by server, relay and daemon.</summary>
    public static System.CommandLine.Option<string> FormatOption()
    {
        var option = new System.CommandLine.Option<string>("--log-format")
        {
            Description = "Log lines as text, or one JSON object per line for log collectors (default: $TRELLIS_LOG_FORMAT, else text).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("TRELLIS_LOG_FORMAT") is { Length: > 0 } fromEnvironment ? fromEnvironment : Text,
        };
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } value && !Formats.Contains(value))
            {
                result.AddError($"--log-format must be text or json, got '{value}'");
            }
        });
        return option;
    }

    public static ILoggingBuilder AddTrellisConsole(this ILoggingBuilder logging, string format = Text)
    {
        if (format == Json)
        {
            return logging.AddJsonConsole(o =>
            {
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.UseUtcTimestamp = true;
            });
        }

        // Registered by hand rather than with AddConsoleFormatter, which binds options from configuration
        // by reflection (refused by NativeAOT) and which this formatter does not read.
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, TrellisConsoleFormatter>());
        return logging.AddConsole(o => o.FormatterName = TrellisConsoleFormatter.FormatterName);
    }
}
