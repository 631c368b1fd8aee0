using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Trellis.Cli.Tests;

/// <summary>What an operator reads in the server's, relay's and daemon's logs.</summary>
public class LogFormatTests
{
    private static string Line(string category, LogLevel level, string message, Exception? exception = null)
    {
        var writer = new StringWriter();
        new TrellisConsoleFormatter().Write(new LogEntry<string>(level, category, default, message, exception, (m, _) => m), null, writer);
        return writer.ToString();
    }

    [Fact]
    public void A_line_is_a_utc_timestamp_a_level_and_where_it_came_from_without_dotnet_category_names()
    {
        var line = Line("Trellis.Node.Control.ControlClient", LogLevel.Warning, "control: refused; retrying in 0.9 s");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn  control: control: refused; retrying in 0\.9 s\n$", line);
        Assert.DoesNotContain("Trellis.", line, StringComparison.Ordinal);
        Assert.DoesNotContain("[0]", line, StringComparison.Ordinal);
    }

    [Fact]
    public void An_exception_stays_on_the_same_line_without_a_stack_trace()
    {
        var line = Line("Trellis.Control.Server.ControlServerHost", LogLevel.Error, "start failed", new IOException("disk full\non /var"));
        Assert.EndsWith(" error server: start failed (disk full | on /var)\n", line, StringComparison.Ordinal);
        Assert.Single(line.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("Trellis.Node.Daemon.NodeDaemon", "daemon")]
    [InlineData("Trellis.Discovery.DiscoveryBind", "discovery")]
    [InlineData("Trellis.Control.Mesh.MeshState", "mesh")]
    [InlineData("Microsoft.AspNetCore.Server.Kestrel", "http")]
    [InlineData("Microsoft.EntityFrameworkCore.Database.Command", "store")]
    public void The_source_is_the_part_of_trellis_a_line_came_from(string category, string source) =>
        Assert.Equal(source, TrellisConsoleFormatter.Source(category));

    [Theory]
    [InlineData("daemon")]
    [InlineData("server")]
    [InlineData("relay")]
    public void An_unknown_log_format_is_a_usage_error(string verb)
    {
        var (code, _, error) = Cli.Run(verb, "--log-format", "yaml");
        Assert.Equal(2, code);
        Assert.Contains("--log-format must be text or json, got 'yaml'", error, StringComparison.Ordinal);
    }
}
