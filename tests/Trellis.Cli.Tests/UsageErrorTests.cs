namespace Trellis.Cli.Tests;

/// <summary>What a user sees after a mistyped command line: the nearest valid word, no secret echoed, the verb's help named.</summary>
public class UsageErrorTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => Cli.Run(args);

    [Theory]
    [InlineData("up", "--auth-key", "trellis-auth-0123-SECRETVALUE")]
    [InlineData("up", "--auth-key=trellis-auth-0123-SECRETVALUE")]
    [InlineData("up", "--auth-key:trellis-auth-0123-SECRETVALUE")]
    public void A_mistyped_secret_flag_is_named_with_the_right_spelling_and_its_value_never_shown(params string[] args)
    {
        var (code, output, error) = Run(args);
        Assert.Equal(2, code);
        Assert.DoesNotContain("SECRETVALUE", output + error, StringComparison.Ordinal);
        Assert.Equal("trellis up: unknown option '--auth-key'; did you mean --authkey?\nTry 'trellis up --help'.\n", error);
    }

    [Theory]
    [InlineData("trellis set: unknown option '--acept-routes'; did you mean --accept-routes?", "set", "--acept-routes")]
    [InlineData("trellis: unknown command 'statsu'; did you mean status?", "statsu")]
    [InlineData("trellis nodes: unknown command 'aprove'; did you mean approve?", "nodes", "aprove", "3")]
    [InlineData("trellis status: unknown option '--frobnicate'", "status", "--frobnicate")]
    [InlineData("trellis daemon: '70k' is not a whole number for --port", "daemon", "--port", "70k")]
    public void A_typo_gets_the_nearest_valid_word_and_the_help_of_its_verb(string expected, params string[] args)
    {
        var (code, _, error) = Run(args);
        Assert.Equal(2, code);
        var lines = error.TrimEnd('\n').Split('\n');
        Assert.Equal(expected, lines[0]);
        Assert.Equal($"Try '{expected[..expected.IndexOf(':', StringComparison.Ordinal)]} --help'.", lines[^1]);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_command_group_alone_lists_its_commands()
    {
        var (code, _, error) = Run("nodes");
        Assert.Equal(2, code);
        Assert.StartsWith("trellis nodes: give one of its commands:\n", error, StringComparison.Ordinal);
        foreach (var sub in new[] { "list", "approve", "delete", "expire", "rename", "tag" })
        {
            Assert.Matches($@"\n  {sub} +\S", error);
        }

        Assert.EndsWith("Try 'trellis nodes --help'.\n", error, StringComparison.Ordinal);
    }
}
