namespace Trellis.Cli.Tests;

/// <summary>`trellis relay` refuses what it cannot run with, before it listens on anything.</summary>
public sealed class RelayVerbTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-relay-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static (int Code, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = CommandLine.Run(args, output, error);
        return (code, error.ToString());
    }

    private string KeyFile(string content)
    {
        var path = Path.Combine(_directory, "mesh.key");
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void Without_a_control_server_it_is_a_usage_error()
    {
        var (code, error) = Run("relay", "--mesh-key-file", KeyFile(new string('k', 40)));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("--control-url is required", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("")]
    public void A_missing_or_short_mesh_key_is_a_usage_error(string key)
    {
        var (code, error) = Run("relay", "--control-url", "https://127.0.0.1:1", "--mesh-key-file", KeyFile(key));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("mesh key of 32+ characters", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mesh_key_file_that_does_not_exist_is_named()
    {
        var (code, error) = Run("relay", "--control-url", "https://127.0.0.1:1", "--mesh-key-file", Path.Combine(_directory, "absent"));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("does not exist", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--listen", "0.0.0.0:8443", "must be an http:// or https:// URL")]
    [InlineData("--listen", "https://0.0.0.0:8443", "needs --tls-cert and --tls-key")]
    [InlineData("--stun-port", "70000", "--stun-port")]
    [InlineData("--rate-limit", "-1", "--rate-limit")]
    [InlineData("--mesh-peer", "relay2:8443", "--mesh-peer")]
    [InlineData("--mesh-peer", "https://relay2.example.com/relay#not-a-key", "is not a relay key")]
    [InlineData("--trusted-proxy", "10.0.0.5/8", "--trusted-proxy '10.0.0.5/8' has host bits set; did you mean 10.0.0.0/8?")]
    [InlineData("--trusted-proxy", "2001:db8::1/129", "needs a prefix length from 0 to 128")]
    [InlineData("--trusted-proxy", "proxy.example.com", "--trusted-proxy")]
    public void Bad_settings_are_usage_errors_that_say_what_is_wrong(string flag, string value, string message)
    {
        var (code, error) = Run("relay", "--control-url", "https://127.0.0.1:1", "--mesh-key-file", KeyFile(new string('k', 40)), flag, value);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_http_control_server_is_refused_without_insecure_naming_the_flag_and_url()
    {
        var (code, error) = Run("relay", "--control-url", "http://control.example.com:8080", "--mesh-key-file", KeyFile(new string('k', 40)));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("--control-url http://control.example.com:8080/ is plain HTTP", error, StringComparison.Ordinal);
        Assert.Contains("https://control.example.com:8080/", error, StringComparison.Ordinal);
        Assert.Contains("--insecure", error, StringComparison.Ordinal);

        // --insecure lets it past (to the next check: the mesh key).
        (code, error) = Run("relay", "--control-url", "http://control.example.com:8080", "--insecure", "--mesh-key-file", KeyFile("short"));
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("mesh key of 32+ characters", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_http_mesh_peer_without_its_key_is_refused_without_insecure()
    {
        var (code, error) = Run("relay", "--control-url", "https://control.example.com", "--mesh-key-file", KeyFile(new string('k', 40)), "--mesh-peer", "http://relay2.example.com:8443/relay");
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("--mesh-peer http://relay2.example.com:8443/relay is plain HTTP", error, StringComparison.Ordinal);
        Assert.Contains("https://relay2.example.com:8443/relay", error, StringComparison.Ordinal);
        Assert.Contains("--mesh-peer http://relay2.example.com:8443/relay#KEY", error, StringComparison.Ordinal);
        Assert.Contains("--insecure", error, StringComparison.Ordinal);

        // With the peer's key pinned, or with --insecure, it gets past (to the next check).
        var key = Convert.ToBase64String(new byte[32]);
        foreach (var args in new[]
                 {
                     new[] { "--mesh-peer", $"http://relay2.example.com:8443/relay#{key}" },
                     ["--mesh-peer", "http://relay2.example.com:8443/relay", "--insecure"],
                 })
        {
            (code, error) = Run(["relay", "--control-url", "https://control.example.com", "--mesh-key-file", KeyFile(new string('k', 40)), "--stun-port", "70000", .. args]);
            Assert.Equal(CommandLine.UsageError, code);
            Assert.Contains("--stun-port", error, StringComparison.Ordinal);
        }
    }
}
