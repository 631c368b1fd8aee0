using System.Text.RegularExpressions;
using Trellis.Control.Server;

namespace Trellis.Control.Tests.Server;

/// <summary>dist/server.example.yaml loads through the real loader and documents every key the server accepts.</summary>
public sealed class ServerExampleConfigTests
{
    private static readonly Dictionary<string, string?> None = [];

    private static string ExampleFile()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Trellis.slnx")))
        {
            dir = dir.Parent;
        }

        return Path.Combine(dir?.FullName ?? throw new InvalidOperationException("the repository root was not found"), "dist", "server.example.yaml");
    }

    [Fact]
    public void The_example_loads_with_its_relay_regions_auto_approvers_and_sign_in()
    {
        // The example names a secret file that exists only on a real server: the environment stands in.
        var options = ServerOptionsLoader.Load(ExampleFile(), None, new Dictionary<string, string?> { [ServerOptionsLoader.ClientSecretVariable] = "example" });

        Assert.Equal("https://vpn.example.com", options.PublicUrl);
        Assert.Equal([900, 901], options.RelayMap.Regions.Select(r => r.Id));
        Assert.Equal("relay-fra.example.com", options.RelayMap.Regions[1].Nodes[0].Host);
        Assert.Equal(["tag:router", "bob"], options.AutoApprovers["10.20.0.0/16"]);
        Assert.True(options.UsesPostgres);
        Assert.Equal("https://accounts.example.com", options.Sso!.Issuer);
        Assert.Equal(["vpn-users"], options.Sso.AllowedGroups);
    }

    [Fact]
    public void The_example_documents_every_key()
    {
        var text = File.ReadAllText(ExampleFile());
        var missing = ServerConfigShape.TopLevelKeys.Where(key => !Regex.IsMatch(text, $@"^(# )?{Regex.Escape(key)}:", RegexOptions.Multiline))
            .Concat(ServerConfigShape.RegionKeys.Concat(ServerConfigShape.NodeKeys).Concat(ServerConfigShape.DnsKeys).Concat(ServerConfigShape.OidcKeys)
                .Where(key => !Regex.IsMatch(text, $@"^\s+(- )?{Regex.Escape(key)}:", RegexOptions.Multiline)));

        Assert.Empty(missing);
    }
}
