using Trellis.Relay.Client;

namespace Trellis.Relay.Tests;

public class BackoffTests
{
    [Fact]
    public void Delays_double_from_the_base_with_jitter_and_stop_at_the_cap()
    {
        var backoff = new Backoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), new Random(7));
        for (var attempt = 0; attempt < 40; attempt++)
        {
            var ceiling = Math.Min(5000, 100 * Math.Pow(2, attempt));
            var delay = backoff.Delay(attempt).TotalMilliseconds;
            Assert.InRange(delay, ceiling / 2, ceiling);
        }
    }

    [Fact]
    public void Clients_restarted_together_spread_out()
    {
        var random = new Random(3);
        var delays = Enumerable.Range(0, 100).Select(_ => new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), random).Delay(3)).ToList();
        Assert.True(delays.Max() - delays.Min() > TimeSpan.FromSeconds(2));
    }
}
