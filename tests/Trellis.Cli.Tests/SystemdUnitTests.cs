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
    public void The_units_ExecStart_parses_without_errors(string unit, string verb)
    {
        var lines = File.ReadAllLines(Path.Combine(Repository(), "dist", "systemd", unit));
        var execStart = Assert.Single(lines, l => l.StartsWith("ExecStart=", StringComparison.Ordinal));
        var words = execStart["ExecStart=".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.EndsWith("/trellis", words[0], StringComparison.Ordinal);
        Assert.Equal(verb, words[1]);

        var parse = CommandLine.Build().Parse(words[1..]);
        Assert.Empty(parse.Errors);
    }
}
