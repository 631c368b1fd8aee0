using Trellis.Control.Server;

namespace Trellis.Control.Tests.Server;

/// <summary>A mistake in the YAML file is told by key, line and column in words, with no .NET type names.</summary>
public sealed class ServerConfigFileErrorTests : IDisposable
{
    private static readonly Dictionary<string, string?> None = [];

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Error(string yaml)
    {
        var path = Path.Combine(_dir, "server.yaml");
        File.WriteAllText(path, yaml);
        var e = Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(path, None, None));
        Assert.StartsWith(path + ": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Version=", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Trellis.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Int32", e.Message, StringComparison.Ordinal);
        return e.Message[(path.Length + 2)..];
    }

    [Theory]
    [InlineData("public_url: https://vpn.example.com", "line 1, column 1: unknown setting 'public_url'; did you mean 'public-url'?")]
    [InlineData("publicUrl: https://vpn.example.com", "line 1, column 1: unknown setting 'publicUrl'; did you mean 'public-url'?")]
    [InlineData("listen: http://0.0.0.0:8080\nMaxConnectionsPerAddress: 5", "line 2, column 1: unknown setting 'MaxConnectionsPerAddress'; did you mean 'max-connections-per-address'?")]
    [InlineData("relay-region: []", "line 1, column 1: unknown setting 'relay-region'; did you mean 'relay-regions'?")]
    [InlineData("pubilc-url: x", "line 1, column 1: unknown setting 'pubilc-url'; did you mean 'public-url'?")]
    [InlineData("colour: blue", "line 1, column 1: unknown setting 'colour'; see dist/server.example.yaml for every setting")]
    public void An_unknown_key_suggests_the_nearest_one(string yaml, string expected) => Assert.Equal(expected, Error(yaml));

    [Theory]
    [InlineData("max-connections: many", "line 1, column 18: max-connections: 'many' is not a whole number of 1 or more")]
    [InlineData("relay-regions: 5", "line 1, column 16: relay-regions must be a list of regions, each starting with '- id: 901', not the single value '5'")]
    [InlineData("relay-regions:\n  id: 901", "line 2, column 3: relay-regions must be a list of regions, each starting with '- id: 901', not a map")]
    [InlineData("listen: [http://a, http://b]", "line 1, column 9: listen must be a single value, not a list")]
    [InlineData("auto-approvers: [alice]", "line 1, column 17: auto-approvers must be a map of route prefixes, each with the list of users and tags that may approve it, e.g. '10.0.0.0/8: [alice, tag:router]', not a list")]
    [InlineData("auto-approvers:\n  10.0.0.0/8: alice", "line 2, column 15: auto-approvers '10.0.0.0/8' must be a list of users and tags, e.g. [alice, tag:router], not the single value 'alice'")]
    [InlineData("- listen", "line 1, column 1: the file must be a map of settings, one 'key: value' per line, not a list")]
    [InlineData("relay-regions:\n  - id: first\n    code: x", "line 2, column 9: relay-regions[0].id: 'first' is not a whole number")]
    [InlineData("relay-regions:\n  - id: 901\n    nodes:\n      - host: r\n        port: https", "line 5, column 15: relay-regions[0].nodes[0].port: 'https' is not a whole number")]
    [InlineData("relay-regions:\n  - id: 901\n    nodes:\n      - host: r\n        tls: maybe", "line 5, column 14: relay-regions[0].nodes[0].tls: 'maybe' is not true or false")]
    [InlineData("relay-regions:\n  - id: 901\n    nodes:\n      - host: r\n        stun_port: 3478", "line 5, column 9: unknown relay node setting 'stun_port'; did you mean 'stun-port'?")]
    [InlineData("relay-regions:\n  - id: 901\n    nodess: []", "line 3, column 5: unknown region setting 'nodess'; did you mean 'nodes'?")]
    [InlineData("idle-timeout: soon", "line 1, column 15: idle-timeout: 'soon' is not a duration (use 30s, 5m, 2h, 7d)")]
    [InlineData("metrics-listen: localhost:9090", "line 1, column 17: metrics-listen: 'localhost' is not an IP address; a metrics listener binds an address, e.g. 127.0.0.1:9090")]
    [InlineData("metrics-listen: 127.0.0.1", "line 1, column 17: metrics-listen: '127.0.0.1' is not ADDRESS:PORT; e.g. 127.0.0.1:9090, or [::1]:9090 for IPv6")]
    [InlineData("metrics-listen: 127.0.0.1:99999", "line 1, column 17: metrics-listen: '99999' is not a port (1-65535)")]
    public void A_wrong_kind_of_value_says_what_was_expected(string yaml, string expected) => Assert.Equal(expected, Error(yaml));

    [Theory]
    [InlineData("listen: [unclosed", "line 2, column 1: not valid YAML:")]
    [InlineData("listen: a\n  b: c", "line 2, column 4: not valid YAML:")]
    public void A_syntax_error_gives_the_line_and_column(string yaml, string expected) =>
        Assert.StartsWith(expected, Error(yaml), StringComparison.Ordinal);

    [Fact]
    public void An_empty_file_is_no_configuration()
    {
        var path = Path.Combine(_dir, "server.yaml");
        File.WriteAllText(path, "# nothing yet\n");
        Assert.Equal("http://0.0.0.0:8080", ServerOptionsLoader.Load(path, None, None).Listen);
    }
}
