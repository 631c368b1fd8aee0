using System.Net;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public class RoutePrefixesTests
{
    [Fact]
    public void Lists_are_canonical_deduplicated_and_sorted()
    {
        Assert.True(RoutePrefixes.TryNormalize(["192.168.0.0/24", "10.0.0.0/8", "FD00::/64", "10.0.0.0/8"], out var routes, out _));
        Assert.Equal(["10.0.0.0/8", "192.168.0.0/24", "fd00::/64"], routes);
    }

    [Theory]
    [InlineData("10.0.0.1/8", "did you mean 10.0.0.0/8")]
    [InlineData("fd00::1/64", "did you mean fd00::/64")]
    [InlineData("10.0.0.0/33", "expected CIDR")]
    [InlineData("10.0.0.0", "expected CIDR")]
    [InlineData("10/8", "expected CIDR")]
    [InlineData("fe80::%2/64", "expected CIDR")]
    [InlineData("", "expected CIDR")]
    public void Bad_prefixes_are_explained(string text, string explanation)
    {
        Assert.False(RoutePrefixes.TryParse(text, out _, out var error));
        Assert.Contains(explanation, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_many_prefixes_are_refused()
    {
        var many = Enumerable.Range(0, RoutePrefixes.MaxRoutesPerNode + 1).Select(i => $"10.{i / 256}.{i % 256}.0/24");

        Assert.False(RoutePrefixes.TryNormalize(many, out _, out var error));
        Assert.Contains("too many", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.1.0.0/16", true)]
    [InlineData("10.0.0.0/8", "10.0.0.0/8", true)]
    [InlineData("10.1.0.0/16", "10.0.0.0/8", false)]
    [InlineData("0.0.0.0/0", "192.168.1.0/24", true)]
    [InlineData("0.0.0.0/0", "::/0", false)]
    [InlineData("fd00::/8", "fd12::/16", true)]
    public void Covering_means_containing_the_whole_prefix(string outer, string inner, bool covers) =>
        Assert.Equal(covers, RoutePrefixes.Covers(IPNetwork.Parse(outer), IPNetwork.Parse(inner)));

    [Fact]
    public void Rules_match_users_and_tags_case_insensitively()
    {
        var rules = new[] { new AutoApprovalRule(IPNetwork.Parse("10.0.0.0/8"), ["Alice", "tag:router"]) };
        string[] advertised = ["10.1.0.0/16", "11.0.0.0/8"];

        Assert.Equal(["10.1.0.0/16"], AutoApprovalRule.Approvable(advertised, "alice", [], rules));
        Assert.Equal(["10.1.0.0/16"], AutoApprovalRule.Approvable(advertised, null, ["tag:router"], rules));
        Assert.Empty(AutoApprovalRule.Approvable(advertised, "bob", ["tag:web"], rules));
    }
}
