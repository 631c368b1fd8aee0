using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Transport;

namespace Trellis.WireGuard.Tests;

public class CookieTests
{
    [Fact]
    public void Under_load_an_initiation_without_mac2_gets_a_cookie_and_the_retry_with_it_succeeds()
    {
        using var pair = new DevicePair(new FakeTimeProvider());
        pair.B.ForcedUnderLoad = true;
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        DevicePair.WaitFor(() => pair.A.Counters.CookieRepliesAccepted == 1, "A to accept B's cookie");
        Assert.Equal(1, pair.B.Counters.CookieRepliesSent);
        Assert.Equal(0, pair.CountOnWire(MessageType.Response, pair.B));
        var first = pair.LastOnWire(MessageType.Initiation, pair.A)!;
        Assert.True(first.AsSpan(MessageLayout.InitMac2, 16).IndexOfAnyExcept((byte)0) < 0, "no cookie yet, so mac2 is zero");

        pair.AdvanceSettled(Constants.RekeyTimeout + Constants.RekeyTimeoutJitterMax); // the retransmission carries mac2
        var retry = pair.LastOnWire(MessageType.Initiation, pair.A)!;
        Assert.True(retry.AsSpan(MessageLayout.InitMac2, 16).IndexOfAnyExcept((byte)0) >= 0);
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Response, pair.B) == 1, "B's response");
        Assert.NotNull(DevicePair.Receive(pair.TunB, DevicePair.Patience));
        Assert.Equal(1, pair.B.Counters.CookieRepliesSent);
    }

    [Fact]
    public void A_flood_of_initiations_puts_the_responder_under_load_and_is_answered_with_cookies()
    {
        using var pair = new DevicePair();
        pair.Network.Drop = (s, _, _) => s.Port == pair.B.Bind.Port;
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Initiation, pair.A) == 1, "an initiation to copy");
        var initiation = pair.LastOnWire(MessageType.Initiation, pair.A)!;
        pair.Network.Drop = null;

        var flooder = pair.Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("203.0.113.66:0")));
        flooder.Open(0);
        var batch = PacketBuffer.AllocateBatch(32);
        foreach (var b in batch)
        {
            initiation.CopyTo(b.Data);
            b.Length = initiation.Length;
            b.Endpoint = pair.BindB.LocalEndpoint;
        }

        pair.Settle();
        var before = pair.BindB.Delivered;
        for (var i = 0; i < 64; i++)
        {
            flooder.Send(batch); // 2048 initiations with a valid mac1, as fast as possible
        }

        pair.Settle();
        var received = pair.BindB.Delivered - before;
        var c = pair.B.Counters;
        Assert.True(c.CookieRepliesSent > 0, "the flood was answered with cookies");
        Assert.Equal(received, c.HandshakeReplayed + c.HandshakeQueueFull + c.CookieRepliesSent + c.RateLimited);
        // Every replayed copy cost a Diffie-Hellman; queue-full drops cost nothing. How many of each
        // depends on how the two threads were scheduled, but once the queue passes an eighth, every
        // copy handled gets a cookie, so Diffie-Hellman stays the minority on any schedule.
        Assert.True(
            c.CookieRepliesSent > c.HandshakeReplayed,
            $"{c.CookieRepliesSent} cookies, {c.HandshakeReplayed} Diffie-Hellman, {c.HandshakeQueueFull} dropped of {received}");
    }

    [Fact]
    public void The_rate_limiter_allows_a_burst_then_twenty_per_second_per_source()
    {
        var time = new FakeTimeProvider();
        var limiter = new RateLimiter(time);
        var source = Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:1"));
        var sameSlash64 = Endpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::1]:1"));
        var neighbour = Endpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8::ffff]:2"));
        for (var i = 0; i < Constants.RateLimitBurst; i++)
        {
            Assert.True(limiter.Allow(source));
            Assert.True(limiter.Allow(sameSlash64));
        }

        Assert.False(limiter.Allow(source));
        Assert.False(limiter.Allow(neighbour)); // an IPv6 /64 counts as one source
        Assert.True(limiter.Allow(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:1"))));
        time.Advance(TimeSpan.FromMilliseconds(1000 / Constants.RateLimitPacketsPerSecond));
        Assert.True(limiter.Allow(source));
        Assert.False(limiter.Allow(source));
        time.Advance(TimeSpan.FromSeconds(2));
        limiter.Allow(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.3:1")));
        Assert.Equal(1, limiter.Count); // idle entries are collected
    }
}
