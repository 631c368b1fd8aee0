namespace Trellis.Cli.Tests;

/// <summary>The systemd units in dist/ start the binary with options it really has.</summary>
public class SystemdUnitTests
{
    private static string Repository()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Trellis.slnx")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("the repository root was not found");
    }

    [Theory]
    [InlineData("trellis-server.service", "server")]
    [InlineData("trellis-daemon.service", "daemon")]
    [InlineData("trellis-relay.service", "relay")]
    public void The_units_ExecStart_parses_without_errors(string unit, string verb)
    {
        var lines = File.ReadAllLines(Path.Combine(Repository(), "dist", "systemd", unit));
        var execStart = Assert.Single(lines, l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        // $NAME is the operator's own arguments from the unit's environment file, expanded by systemd.
        var words = execStart["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith('$')).ToArray();
        // The daemon's unit runs trellis-node, whose daemon verb is trellis's own (the same source).
        Assert.Matches(verb == "daemon" ? "/trellis-node$" : "/trellis$", words[0]);
        Assert.Equal(verb, words[1]);

        var parse = CommandLine.Build().Parse(words[1..]);
        Assert.Empty(parse.Errors);
    }

    [Theory]
    [InlineData("trellis-server.service")]
    [InlineData("trellis-daemon.service")]
    [InlineData("trellis-relay.service")]
    public void The_units_are_sandboxed_as_systemd_analyze_rates_them(string unit)
    {
        // The figure systemd-analyze gives offline; both units were 8.4 and 9.6 ("exposed", "unsafe") before.
        var start = new System.Diagnostics.ProcessStartInfo("systemd-analyze") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "security", "--offline=yes", "--no-pager", Path.Combine(Repository(), "dist", "systemd", unit) })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        var match = System.Text.RegularExpressions.Regex.Match(output, @"Overall exposure level for \S+: (\d+\.\d)");
        Assert.True(match.Success, output);
        Assert.True(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) <= 5.0, $"{unit}: {match.Value}");
    }
}
