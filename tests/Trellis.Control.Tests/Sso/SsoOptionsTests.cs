using Trellis.Control.Server;

namespace Trellis.Control.Tests.Sso;

/// <summary>The `oidc:` section: what it needs, clear errors, and a client secret that is never a flag or a file setting.</summary>
public sealed class SsoOptionsTests : IDisposable
{
    private static readonly Dictionary<string, string?> None = [];

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-sso-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string oidc, string publicUrl = "public-url: https://vpn.example.com\n")
    {
        var path = Path.Combine(_dir, "server.yaml");
        File.WriteAllText(path, publicUrl + "oidc:\n" + oidc);
        return path;
    }

    private string SecretFile(string content = "s3cret-from-file\n")
    {
        var path = Path.Combine(_dir, "secret");
        File.WriteAllText(path, content);
        return path;
    }

    private string Error(string path, IReadOnlyDictionary<string, string?>? environment = null, IReadOnlyDictionary<string, string?>? flags = null) =>
        Assert.Throws<ServerConfigurationException>(() => ServerOptionsLoader.Load(path, flags ?? None, environment ?? None)).Message;

    [Fact]
    public void A_full_section_loads_with_the_secret_from_its_file()
    {
        var path = Write($"""
              issuer: https://id.example.com
              client-id: trellis
              client-secret-file: {SecretFile()}
              scopes: [openid, email, groups]
              allowed-domains: [Example.COM]
              allowed-users: [boss@partner.example]
              allowed-groups: [vpn]
              groups-claim: roles
              node-key-expiry: 30d
              login-timeout: 5m
            """);

        var sso = ServerOptionsLoader.Load(path, None, None).Sso!;

        Assert.Equal("https://id.example.com", sso.Issuer);
        Assert.Equal("trellis", sso.ClientId);
        Assert.Equal("s3cret-from-file", sso.ClientSecret);
        Assert.Equal(["openid", "email", "groups"], sso.Scopes);
        Assert.Equal(["example.com"], sso.AllowedDomains);
        Assert.Equal(["boss@partner.example"], sso.AllowedUsers);
        Assert.Equal(["vpn"], sso.AllowedGroups);
        Assert.Equal("roles", sso.GroupsClaim);
        Assert.Equal(TimeSpan.FromDays(30), sso.NodeKeyExpiry);
        Assert.Equal(TimeSpan.FromMinutes(5), sso.LoginTimeout);
        Assert.DoesNotContain("s3cret", sso.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_environment_gives_the_secret_instead_of_a_file()
    {
        var path = Write("  issuer: https://id.example.com\n  client-id: trellis\n");
        var sso = ServerOptionsLoader.Load(path, None, new Dictionary<string, string?> { [ServerOptionsLoader.ClientSecretVariable] = "from-env" }).Sso!;

        Assert.Equal("from-env", sso.ClientSecret);
        Assert.Equal(["openid", "profile", "email"], sso.Scopes);
        Assert.Equal(TimeSpan.FromDays(180), sso.NodeKeyExpiry);
    }

    [Fact]
    public void A_secret_written_in_the_file_is_refused_with_where_it_belongs()
    {
        var message = Error(Write("  issuer: https://id.example.com\n  client-id: trellis\n  client-secret: hunter2\n"));

        Assert.Contains("the client secret does not go in this file", message, StringComparison.Ordinal);
        Assert.Contains("client-secret-file", message, StringComparison.Ordinal);
        Assert.Contains(ServerOptionsLoader.ClientSecretVariable, message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", message, StringComparison.Ordinal);
    }

    [Fact]
    public void No_flag_carries_the_secret()
    {
        Assert.DoesNotContain(ServerOptionsLoader.Keys, k => k.Contains("secret", StringComparison.Ordinal));
        var message = Error(Write("  issuer: https://id.example.com\n  client-id: trellis\n"), flags: new Dictionary<string, string?> { ["oidc-client-secret"] = "hunter2" });
        Assert.DoesNotContain("hunter2", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  client-id: trellis\n", "oidc.issuer is required")]
    [InlineData("  issuer: http://id.example.com\n  client-id: trellis\n", "must be an https:// URL (plain http only for a provider on this host's loopback)")]
    [InlineData("  issuer: https://id.example.com\n", "oidc.client-id is required")]
    [InlineData("  issuer: https://id.example.com\n  client-id: trellis\n  scopes: [email]\n", "oidc.scopes must include openid")]
    [InlineData("  issuer: https://id.example.com\n  client-id: trellis\n  allowed-domains: [bob@example.com]\n", "'bob@example.com' is not a domain")]
    [InlineData("  issuer: https://id.example.com\n  client-id: trellis\n  login-timeout: 10s\n", "login-timeout must be between 1m and 24h")]
    [InlineData("  issuer: https://id.example.com\n  client-id: trellis\n  isuer: x\n", "unknown oidc setting 'isuer'; did you mean 'issuer'?")]
    [InlineData("  issuer: https://id.example.com\n  client-id: trellis\n  scopes: openid\n", "oidc.scopes must be a list")]
    public void A_mistake_is_named(string oidc, string expected) =>
        Assert.Contains(expected, Error(Write(oidc), new Dictionary<string, string?> { [ServerOptionsLoader.ClientSecretVariable] = "x" }), StringComparison.Ordinal);

    [Fact]
    public void Without_a_secret_the_error_says_where_to_put_one() =>
        Assert.Contains("needs the client secret", Error(Write("  issuer: https://id.example.com\n  client-id: trellis\n")), StringComparison.Ordinal);

    [Fact]
    public void Without_a_public_url_the_redirect_uri_is_unknown() =>
        Assert.Contains(
            "oidc needs public-url",
            Error(Write($"  issuer: https://id.example.com\n  client-id: trellis\n  client-secret-file: {SecretFile()}\n", publicUrl: "")),
            StringComparison.Ordinal);

    [Fact]
    public void An_http_issuer_on_loopback_is_accepted_for_a_provider_on_this_host()
    {
        var path = Write($"  issuer: http://127.0.0.1:9400\n  client-id: trellis\n  client-secret-file: {SecretFile()}\n");
        Assert.Equal("http://127.0.0.1:9400", ServerOptionsLoader.Load(path, None, None).Sso!.Issuer);
    }
}
