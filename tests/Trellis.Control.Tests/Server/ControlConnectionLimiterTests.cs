using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Server;
using Trellis.Control.Tests.TestDoubles;
using Admission = Trellis.Control.Server.ControlConnectionLimiter.Admission;

namespace Trellis.Control.Tests.Server;

public class ControlConnectionLimiterTests
{
    private readonly FakeTimeProvider _clock = new();
    private readonly RecordingLogger<ControlConnectionLimiter> _log = new();
    private readonly ConnectionCounters _counters = new();

    private ControlConnectionLimiter Limiter(int total = 10_000, int perNetwork = 64) => new(total, perNetwork, _counters, _clock, _log);

    private static IPNetwork Net(string address) => ClientNetwork.Of(IPAddress.Parse(address));

    [Fact]
    public void The_65th_connection_from_one_IPv6_64_is_refused_while_another_64_and_IPv4_still_connect()
    {
        var limiter = Limiter();
        for (var i = 1; i <= 64; i++)
        {
            Assert.Equal(Admission.Admitted, limiter.TryEnter(Net($"2001:db8:1:2::{i:x}")));
        }

        Assert.Equal(Admission.NetworkFull, limiter.TryEnter(Net("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("2001:db8:1:3::1")));
        Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("198.51.100.7")));
        Assert.Equal(66, _counters.Open);
        Assert.Equal(1, _counters.RefusedNetworkLimit);

        limiter.Exit(Net("2001:db8:1:2::1"));
        Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("2001:db8:1:2::abcd")));
    }

    [Fact]
    public void The_total_bounds_every_network_and_unlimited_sources_alike()
    {
        var limiter = Limiter(total: 3);
        Assert.Equal(Admission.Admitted, limiter.TryEnter(null));
        Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("192.0.2.1")));
        Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("192.0.2.2")));

        Assert.Equal(Admission.ServerFull, limiter.TryEnter(Net("192.0.2.3")));
        Assert.Equal(Admission.ServerFull, limiter.TryEnter(null));
        Assert.Equal(2, _counters.RefusedTotalLimit);

        limiter.Exit(null);
        Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("192.0.2.3")));
    }

    [Fact]
    public void A_per_address_limit_of_zero_is_no_limit()
    {
        var limiter = Limiter(perNetwork: 0);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(Admission.Admitted, limiter.TryEnter(Net("192.0.2.1")));
        }
    }

    [Fact]
    public void A_flood_of_refusals_logs_one_warning_a_minute_with_the_count_it_kept_quiet()
    {
        var limiter = Limiter(perNetwork: 1);
        limiter.TryEnter(Net("2001:db8:1:2::1"));

        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(Admission.NetworkFull, limiter.TryEnter(Net("2001:db8:1:2::2")));
        }

        var first = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, first.Level);
        Assert.Contains("2001:db8:1:2::/64", first.Message, StringComparison.Ordinal);
        Assert.Contains("max-connections-per-address", first.Message, StringComparison.Ordinal);

        _clock.Advance(ControlConnectionLimiter.WarningInterval);
        limiter.TryEnter(Net("2001:db8:1:2::3"));

        Assert.Equal(2, _log.Entries.Count);
        Assert.Contains("999 more refused since the last warning", _log.Entries[1].Message, StringComparison.Ordinal);
        Assert.Equal(1001, _counters.RefusedNetworkLimit);
    }

    [Theory]
    [InlineData("198.51.100.7", null, "198.51.100.7/32")]
    [InlineData("198.51.100.7", "203.0.113.9", "198.51.100.7/32")] // anyone can send the header
    [InlineData("::ffff:198.51.100.7", null, "198.51.100.7/32")]
    [InlineData("2001:db8:1:2:3:4:5:6", null, "2001:db8:1:2::/64")]
    [InlineData("127.0.0.1", "203.0.113.1, 2001:db8:5:6::7", "2001:db8:5:6::/64")] // a local proxy: the address it saw
    [InlineData("::1", "203.0.113.9", "203.0.113.9/32")]
    [InlineData("127.0.0.1", null, null)] // a local tool: not limited per address
    [InlineData("127.0.0.1", "garbage", null)]
    public void Connections_are_counted_against_the_sender_network(string remote, string? forwardedFor, string? network)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        if (forwardedFor is not null)
        {
            context.Request.Headers["X-Forwarded-For"] = forwardedFor;
        }

        Assert.Equal(network, ClientNetwork.For(context)?.ToString());
    }
}
