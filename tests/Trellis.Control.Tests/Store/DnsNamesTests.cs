using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public class DnsNamesTests
{
    [Theory]
    [InlineData("laptop", "laptop")]
    [InlineData("My Laptop", "my-laptop")]
    [InlineData("Alice's iPhone (2)", "alice-s-iphone-2")]
    [InlineData("host.example.com", "host")]
    [InlineData("--edge--", "edge")]
    [InlineData("a__b", "a-b")]
    [InlineData("Café", "caf")]
    [InlineData("", "node")]
    [InlineData(null, "node")]
    [InlineData("...", "node")]
    [InlineData("日本", "node")]
    public void Hostnames_become_labels(string? hostname, string expected) =>
        Assert.Equal(expected, DnsNames.SanitizeHostname(hostname));

    [Fact]
    public void Long_hostnames_are_cut_without_a_trailing_hyphen()
    {
        Assert.Equal(new string('a', 63), DnsNames.SanitizeHostname(new string('a', 100)));
        Assert.Equal(new string('a', 62), DnsNames.SanitizeHostname(new string('a', 62) + "-b" + new string('c', 10)));
    }

    [Fact]
    public void Suffixes_keep_names_within_63_characters()
    {
        Assert.Equal("web-7", DnsNames.WithSuffix("web", 7));
        Assert.Equal(new string('a', 60) + "-12", DnsNames.WithSuffix(new string('a', 63), 12));
        Assert.Equal(new string('a', 59) + "-12", DnsNames.WithSuffix(new string('a', 59) + "-bbb", 12));
    }

    [Theory]
    [InlineData("a", true)]
    [InlineData("web-1", true)]
    [InlineData("1", true)]
    [InlineData("", false)]
    [InlineData("-a", false)]
    [InlineData("a-", false)]
    [InlineData("A", false)]
    [InlineData("a.b", false)]
    public void Labels_follow_rfc_1123(string name, bool valid) => Assert.Equal(valid, DnsNames.IsValidLabel(name));

    [Fact]
    public void Tags_are_validated_lowercased_deduplicated_and_sorted()
    {
        Assert.True(DnsNames.TryNormalizeTags(["tag:B", "tag:a", "tag:b"], out var tags, out _));
        Assert.Equal(["tag:a", "tag:b"], tags);
        Assert.False(DnsNames.TryNormalizeTags(["b"], out _, out var error));
        Assert.Contains("tag:name", error, StringComparison.Ordinal);
        Assert.False(DnsNames.TryNormalizeTags(["tag:"], out _, out _));
    }
}
