namespace Trellis.Cli.Tests;

public class CommandLineTests
{
    private static (int Code, string Output, string Error) Run(params string[] args) => Cli.Run(args);

    [Theory]
    [InlineData]
    [InlineData("wireguard")]
    [InlineData("genkey")]
    [InlineData("pubkey")]
    [InlineData("server")]
    [InlineData("stun")]
    [InlineData("netcheck")]
    [InlineData("relay")]
    [InlineData("ping")]
    public void Help_is_available_everywhere(params string[] verb)
    {
        var (code, output, _) = Run([.. verb, "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", output);
    }

    [Fact]
    public void Version_and_the_version_flag_print_the_release_the_commit_and_the_runtime()
    {
        var (code, output, _) = Run("version");
        Assert.Equal(0, code);
        Assert.Matches(@"^trellis \d+\.\d+\.\d+\r?\ncommit  ([0-9a-f]{40}|unknown)\r?\nruntime \.NET \d+\.\d+\.\d+ linux-", output);
        var flag = Run("--version");
        Assert.Equal(0, flag.Code);
        Assert.Equal(output, flag.Output);
    }

    [Fact]
    public void An_unknown_verb_is_a_usage_error()
    {
        var (code, _, error) = Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("frobnicate", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("this-name-is-far-too-long")]
    [InlineData("bad/name")]
    public void A_bad_interface_name_is_a_usage_error_with_a_clear_message(string name)
    {
        var (code, _, error) = Run("wireguard", name);
        Assert.Equal(2, code);
        Assert.StartsWith("trellis wireguard:", error);
    }

    [Fact]
    public void A_missing_interface_name_is_a_usage_error()
    {
        Assert.Equal(2, Run("wireguard").Code);
    }

    [Fact]
    public void An_out_of_range_mtu_is_a_usage_error()
    {
        var (code, _, error) = Run("wireguard", "wgx0", "--mtu", "10");
        Assert.Equal(2, code);
        Assert.Contains("--mtu", error);
    }

    [Fact]
    public void Genkey_prints_a_key_that_pubkey_accepts()
    {
        var (code, output, _) = Run("genkey");
        Assert.Equal(0, code);
        Assert.True(Trellis.Core.Keys.Key.TryParseBase64(output.Trim(), out _));
    }

    [Theory]
    [InlineData("--listen", "0.0.0.0:8080", "http://")]
    [InlineData("--ipv4-prefix", "banana", "IPv4 prefix")]
    [InlineData("--config", "/nonexistent/trellis.yaml", "does not exist")]
    public void A_bad_server_setting_is_a_usage_error_naming_it(string flag, string value, string expected)
    {
        var (code, _, error) = Run("server", flag, value);
        Assert.Equal(2, code);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
