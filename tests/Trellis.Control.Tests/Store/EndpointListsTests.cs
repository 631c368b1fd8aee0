using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

public class EndpointListsTests
{
    [Fact]
    public void Unusable_and_repeated_entries_are_dropped_and_the_rest_kept_in_order()
    {
        string[] reported =
        [
            "203.0.113.7:41641",
            "[2001:db8::7]:41641",
            "203.0.113.7:41641", // duplicate
            "[::ffff:203.0.113.7]:41641", // the same, IPv4-mapped
            "198.51.100.1:0", // no port
            "0.0.0.0:41641", // unspecified
            "[::]:41641",
            "224.0.0.251:5353", // multicast
            "[ff02::1]:41641",
            "255.255.255.255:41641", // broadcast
            "[fe80::1%2]:41641", // link-local: a peer cannot know the zone
            "[fe80::1]:41641",
            "[2001:db8::7%3]:41641", // zoned
            "[2001:DB8::8]:41641",
            "127.0.0.1:41641", // loopback stays: nodes on one host (tests, labs) use it
        ];

        Assert.True(EndpointLists.TryNormalize(reported, out var normalized, out var error), error);

        Assert.Equal(["203.0.113.7:41641", "[2001:db8::7]:41641", "[2001:db8::8]:41641", "127.0.0.1:41641"], normalized);
    }

    [Fact]
    public void At_most_32_are_kept_the_first_ones_as_the_node_ranks_them()
    {
        var reported = Enumerable.Range(1, 100).Select(i => $"198.51.100.{i}:41641").ToList();

        Assert.True(EndpointLists.TryNormalize(reported, out var normalized, out _));

        Assert.Equal(EndpointLists.MaxEndpointsPerNode, normalized.Count);
        Assert.Equal(32, normalized.Count);
        Assert.Equal(reported.Take(32), normalized);
    }

    [Theory]
    [InlineData("203.0.113.7", "invalid endpoint '203.0.113.7': expected ip:port")]
    [InlineData("2001:db8::7", "invalid endpoint '2001:db8::7'")]
    [InlineData("example.com:41641", "invalid endpoint 'example.com:41641'")]
    [InlineData("203.0.113.7:70000", "expected ip:port")]
    [InlineData("", "expected ip:port")]
    public void A_list_with_an_entry_that_is_not_an_endpoint_is_refused_whole_with_an_example_of_the_right_form(string bad, string message)
    {
        Assert.False(EndpointLists.TryNormalize(["203.0.113.7:41641", bad], out var normalized, out var error));

        Assert.Null(normalized);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.Contains("e.g. 203.0.113.7:41641 or [2001:db8::7]:41641", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_longer_than_anyone_reports_is_refused_and_a_long_entry_is_not_echoed_whole()
    {
        var flood = Enumerable.Range(0, EndpointLists.MaxReportedEndpoints + 1).Select(i => $"198.51.100.1:{i + 1}").ToList();
        Assert.False(EndpointLists.TryNormalize(flood, out _, out var tooMany));
        Assert.Contains("too many endpoints", tooMany, StringComparison.Ordinal);

        Assert.False(EndpointLists.TryNormalize([new string('1', 10_000)], out _, out var tooLong));
        Assert.True(tooLong.Length < 300, tooLong);
    }
}
