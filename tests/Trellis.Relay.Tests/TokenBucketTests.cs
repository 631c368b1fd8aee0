using Microsoft.Extensions.Time.Testing;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

public class TokenBucketTests
{
    [Fact]
    public void The_burst_is_free_then_each_byte_costs_its_share_of_a_second()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(bytesPerSecond: 1000, burst: 500, clock);
        Assert.Equal(TimeSpan.Zero, bucket.Take(500));
        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.Take(100));
        clock.Advance(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TimeSpan.FromMilliseconds(250), bucket.Take(250));
    }

    [Fact]
    public void Idle_time_saves_up_no_more_than_the_burst()
    {
        var clock = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, 2000, clock);
        bucket.Take(2000);
        clock.Advance(TimeSpan.FromHours(1));
        Assert.Equal(TimeSpan.Zero, bucket.Take(2000));
        Assert.Equal(TimeSpan.FromSeconds(1), bucket.Take(1000));
    }

    [Fact]
    public void A_reader_that_waits_as_told_moves_the_rate()
    {
        var clock = new FakeTimeProvider();
        const int rate = 50_000;
        var bucket = new TokenBucket(rate, 10_000, clock);
        var start = clock.GetTimestamp();
        long taken = 0;
        while (taken < 1_000_000)
        {
            taken += 1037;
            clock.Advance(bucket.Take(1037));
        }

        var seconds = clock.GetElapsedTime(start).TotalSeconds;
        Assert.InRange((taken - 10_000) / seconds, rate * 0.99, rate * 1.01);
    }
}
