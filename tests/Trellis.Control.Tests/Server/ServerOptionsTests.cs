using Trellis.Control.Server;

namespace Trellis.Control.Tests.Server;

public sealed class ServerOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-options-").FullName;

    private static readonly Dictionary<string, string?> None = [];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Yaml(string text)
    {
        var path = Path.Combine(_dir, "server.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Flags_beat_the_environment_which_beats_the_file()
    {
        var file = Yaml("""
            listen: http://0.0.0.0:9000
            data-dir: /tmp/from-file
            ipv4-prefix: 100.100.0.0/16
            ephemeral-timeout: 10m
            relay-regions:
              - id: 901
                code: home
                nodes:
                  - name: r1
                    host: relay.example.com
                    port: 8443
                    tls: false
            relay: off
            stun-port: 3479
            auto-approvers:
              192.168.0.0/16: [alice, "tag:router"]
            """);
        var environment = new Dictionary<string, string?> { ["TRELLIS_DATA_DIR"] = "/tmp/from-env", ["TRELLIS_LISTEN"] = "http://127.0.0.1:9001" };
        var flags = new Dictionary<string, string?> { ["listen"] = "http://127.0.0.1:9002" };
        var o = ServerOptionsLoader.Load(file, flags, environment);
        Assert.Equal("http://127.0.0.1:9002", o.Listen);
        Assert.Equal("/tmp/from-env", o.DataDirectory);
        Assert.Equal("100.100.0.0/16", o.IPv4Prefix);
        Assert.Equal(TimeSpan.FromMinutes(10), o.EphemeralTimeout);
        Assert.Equal(901, Assert.Single(o.RelayMap.Regions).Id);
        Assert.Equal(new Uri("http://relay.example.com:8443/relay"), o.RelayMap.Regions[0].Nodes[0].RelayUri());
        Assert.False(o.Relay);
        Assert.Equal(3479, o.StunPort);
        Assert.Equal(["alice", "tag:router"], o.AutoApprovers["192.168.0.0/16"]);
    }

    [Fact]
    public void No_configuration_at_all_is_valid()
    {
        var o = ServerOptionsLoader.Load(null, None, None);
        Assert.False(o.UsesPostgres);
        Assert.EndsWith("trellis.db", o.SqlitePath, StringComparison.Ordinal);
    }

    [Fact]
    public void Node_key_expiry_is_off_by_default_and_pending_nodes_are_capped_and_expire()
    {
        var defaults = ServerOptionsLoader.Load(null, None, None);
        Assert.Null(defaults.NodeKeyExpiry);
        Assert.Equal(100, defaults.MaxPendingNodes);
        Assert.Equal(TimeSpan.FromHours(24), defaults.PendingNodeExpiry);

        var file = Yaml("""
            node-key-expiry: 180d
            max-pending-nodes: 20
            pending-node-expiry: 2h
            """);
        var o = ServerOptionsLoader.Load(file, None, None);
        Assert.Equal(TimeSpan.FromDays(180), o.NodeKeyExpiry);
        Assert.Equal(20, o.MaxPendingNodes);
        Assert.Equal(TimeSpan.FromHours(2), o.PendingNodeExpiry);

        Assert.Null(ServerOptionsLoader.Load(file, new Dictionary<string, string?> { ["node-key-expiry"] = "off" }, None).NodeKeyExpiry);
    }

    [Fact]
    public async Task The_server_applies_the_key_lifetime_and_the_pending_cap()
    {
        await using var server = await NodeProtocol.ControlServerFixture.StartAsync(o => o with { NodeKeyExpiry = TimeSpan.FromDays(30), MaxPendingNodes = 7 });

        Assert.Equal(TimeSpan.FromDays(30), server.Store.Options.NodeKeyLifetime);
        Assert.Equal(7, server.Store.Options.MaxPendingNodes);
    }

    [Fact]
    public void A_connection_string_means_PostgreSQL()
    {
        var o = ServerOptionsLoader.Load(null, new Dictionary<string, string?> { ["database"] = "Host=/var/run/postgresql;Username=trellis" }, None);
        Assert.True(o.UsesPostgres);
    }

    [Theory]
    [InlineData("listen", "0.0.0.0:8080", "http:// or https://")]
    [InlineData("listen", "https://0.0.0.0:443", "--tls-cert")]
    [InlineData("ipv4-prefix", "10.0.0.0/31", "IPv4 prefix")]
    [InlineData("ipv4-prefix", "fd00::/48", "IPv4 prefix")]
    [InlineData("ipv4-prefix", "0.0.0.0/1", "private address space")]
    [InlineData("ipv6-prefix", "fd00::/96", "IPv6 prefix")]
    [InlineData("ipv6-prefix", "2001:db8::/48", "unique local")]
    [InlineData("ephemeral-timeout", "soon", "not a duration")]
    [InlineData("tls-cert", "/nonexistent.pem", "go together")]
    [InlineData("public-url", "not a url", "public URL")]
    [InlineData("relay", "maybe", "true or false")]
    [InlineData("stun-port", "70000", "port number")]
    [InlineData("stun-port", "-1", "port number")]
    [InlineData("relay-mesh-key", "short", "at least 32")]
    [InlineData("node-key-expiry", "forever", "not a duration")]
    [InlineData("max-pending-nodes", "lots", "whole number")]
    public void Bad_settings_get_a_clear_error(string key, string value, string expected)
    {
        var e = Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(null, new Dictionary<string, string?> { [key] = value }, None));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("listen: [unclosed", "line")]
    [InlineData("no-such-setting: 1", "no-such-setting")]
    public void A_bad_file_names_the_problem(string yaml, string expected)
    {
        var e = Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(Yaml(yaml), None, None));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_server_key_is_created_once_with_mode_0600_and_kept()
    {
        var first = ServerKey.LoadOrCreate(_dir);
        var second = ServerKey.LoadOrCreate(_dir);
        Assert.Equal(first, second);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, ServerKey.FileName)));
        File.WriteAllText(Path.Combine(_dir, ServerKey.FileName), "garbage");
        Assert.Throws<ServerConfigurationException>(() => ServerKey.LoadOrCreate(_dir));
    }

    [Fact]
    public void A_policy_file_is_read_from_the_yaml_or_a_flag_and_must_exist()
    {
        var policy = Path.Combine(_dir, "policy.hujson");
        File.WriteAllText(policy, "{}");

        Assert.Equal(policy, ServerOptionsLoader.Load(Yaml($"policy-file: {policy}"), None, None).PolicyFile);
        Assert.Equal(policy, ServerOptionsLoader.Load(null, new Dictionary<string, string?> { ["policy-file"] = policy }, None).PolicyFile);

        var missing = Path.Combine(_dir, "nope.hujson");
        var e = Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(null, new Dictionary<string, string?> { ["policy-file"] = missing }, None));
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", e.Message, StringComparison.Ordinal);
    }
}
