using Trellis.Control.Server;

namespace Trellis.Control.Tests.Server;

public sealed class ConnectionOptionsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_defaults_bound_a_stranger_and_keep_a_healthy_node()
    {
        var options = ServerOptionsLoader.Load(null, new Dictionary<string, string?>(), new Dictionary<string, string?>());

        Assert.Equal(10_000, options.MaxConnections);
        Assert.Equal(64, options.MaxConnectionsPerAddress);
        Assert.Equal(TimeSpan.FromSeconds(10), options.HandshakeTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), options.IdleTimeout);
        Assert.Equal(1024 * 1024, options.MaxNodeMessage);
    }

    [Fact]
    public void The_limits_come_from_the_file_the_environment_and_flags()
    {
        var file = Path.Combine(_dir, "server.yaml");
        File.WriteAllText(file, """
            max-connections: 500
            max-connections-per-address: 0
            idle-timeout: 2m
            """);

        var options = ServerOptionsLoader.Load(
            file,
            new Dictionary<string, string?> { ["handshake-timeout"] = "5s" },
            new Dictionary<string, string?> { ["TRELLIS_MAX_NODE_MESSAGE"] = "262144" });

        Assert.Equal(500, options.MaxConnections);
        Assert.Equal(0, options.MaxConnectionsPerAddress);
        Assert.Equal(TimeSpan.FromMinutes(2), options.IdleTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HandshakeTimeout);
        Assert.Equal(262_144, options.MaxNodeMessage);
    }

    [Theory]
    [InlineData("idle-timeout", "20s", "nodes, which ping every 25 s")]
    [InlineData("max-connections", "0", "whole number of 1 or more")]
    [InlineData("max-connections-per-address", "-1", "whole number of 0 or more")]
    [InlineData("max-node-message", "1000", "at most 33554432")]
    public void Limits_that_would_break_nodes_are_refused_with_what_to_use(string key, string value, string message)
    {
        var e = Assert.Throws<ServerConfigurationException>(() =>
            ServerOptionsLoader.Load(null, new Dictionary<string, string?> { [key] = value }, new Dictionary<string, string?>()));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
