using Trellis.Node.Control;

namespace Trellis.Node.Tests.Control;

public class ControlServersTests
{
    [Fact]
    public void Several_replicas_are_kept_in_order_once_each_in_canonical_form()
    {
        var (servers, problem) = ControlServers.Parse(" https://a.example.com , https://b.example.com:8443/,https://a.example.com/ ");
        Assert.Null(problem);
        Assert.Equal("https://a.example.com/,https://b.example.com:8443/", ControlServers.Join(servers!));
    }

    [Theory]
    [InlineData("https://a.example.com,ftp://b.example.com", "must be an http:// or https:// URL (or several replicas' URLs separated by commas), got 'ftp://b.example.com'")]
    [InlineData(" , ", "must be the control server's URL")]
    public void A_list_with_something_other_than_a_url_is_refused_naming_it(string text, string expected)
    {
        var (servers, problem) = ControlServers.Parse(text);
        Assert.Null(servers);
        Assert.StartsWith(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void More_replicas_than_a_deployment_would_have_are_refused()
    {
        var text = string.Join(',', Enumerable.Range(1, ControlServers.MaxServers + 1).Select(i => $"https://r{i}.example.com"));
        Assert.Contains($"at most {ControlServers.MaxServers}", ControlServers.Parse(text).Problem, StringComparison.Ordinal);
    }
}
