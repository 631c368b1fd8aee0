using Trellis.Control.Server;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Server;

public sealed class DnsOptionsTests : IDisposable
{
    private static readonly Dictionary<string, string?> None = [];

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-dns-options-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Without_settings_nodes_are_named_under_trellis_internal_and_use_the_hosts_nameservers()
    {
        var dns = ServerOptionsLoader.Load(null, None, None).Dns;
        Assert.Equal("trellis.internal", dns.BaseDomain);
        Assert.Empty(dns.Nameservers);
        Assert.Empty(dns.SplitDns);
    }

    [Fact]
    public void The_dns_section_is_read_and_normalized()
    {
        var dns = ServerOptionsLoader.Load(Yaml("""
            dns:
              base-domain: Mesh.Example.
              search-domains: [corp.example]
              nameservers: [9.9.9.9, "[2620:fe::fe]:53", "10.0.0.53:5353"]
              split-dns:
                CORP.example: [10.1.0.53]
              extra-records:
                printer.mesh.example: 100.64.9.9
            """), None, None).Dns;
        Assert.Equal("mesh.example", dns.BaseDomain);
        Assert.Equal(["corp.example"], dns.SearchDomains);
        Assert.Equal(["9.9.9.9", "2620:fe::fe", "10.0.0.53:5353"], dns.Nameservers);
        Assert.Equal(["10.1.0.53"], dns.SplitDns["corp.example"]);
        Assert.Equal([new DnsExtraRecord("printer.mesh.example", "100.64.9.9")], dns.ExtraRecords);
    }

    [Fact]
    public void A_flag_sets_the_base_domain()
    {
        var flags = new Dictionary<string, string?> { ["dns-base-domain"] = "home.arpa" };
        Assert.Equal("home.arpa", ServerOptionsLoader.Load(null, flags, None).Dns.BaseDomain);
    }

    [Theory]
    [InlineData("-bad.example")]
    [InlineData("a..b")]
    [InlineData("under_score.example")]
    [InlineData("")]
    public void An_invalid_base_domain_is_refused_with_what_would_be_right(string domain)
    {
        var flags = new Dictionary<string, string?> { ["dns-base-domain"] = domain };
        var e = Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(null, flags, None));
        Assert.Contains("base domain", e.Message, StringComparison.Ordinal);
        Assert.Contains("e.g. trellis.internal", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_split_domain_with_a_nameserver_that_is_not_an_address_is_refused()
    {
        var e = Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(Yaml("""
            dns:
              split-dns:
                corp.example: [ns1.corp.example]
            """), None, None));
        Assert.Contains("split-DNS domain 'corp.example'", e.Message, StringComparison.Ordinal);
        Assert.Contains("not a nameserver", e.Message, StringComparison.Ordinal);
    }

    private string Yaml(string text)
    {
        var path = Path.Combine(_dir, "server.yaml");
        File.WriteAllText(path, text);
        return path;
    }
}
