using Microsoft.Extensions.Time.Testing;

namespace Trellis.Relay.Tests;

public class RateLimitTests
{
    [Fact]
    public async Task A_client_over_its_rate_is_read_no_faster_than_the_rate_on_the_relays_clock()
    {
        const int rate = 10_000;
        const int burst = 10_000;
        const int packetSize = 1000;
        const int frameSize = 5 + 32 + packetSize;
        const int count = 30;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var relay = await TestRelay.StartAsync(TestRelay.Options() with { RateLimitBytesPerSecond = rate, RateLimitBurstBytes = burst }, time: clock);
        await using var sender = await TestRelay.ConnectedClientAsync(relay);
        await using var receiver = await TestRelay.ConnectedClientAsync(relay);
        Assert.Equal(rate, sender.ServerInfo!.RateLimitBytesPerSecond);

        var received = 0;
        var reader = Task.Run(async () =>
        {
            for (var i = 0; i < count; i++)
            {
                using var packet = await receiver.Packets.ReadAsync();
                Interlocked.Increment(ref received);
            }
        });
        for (var i = 0; i < count; i++)
        {
            await sender.SendAsync(receiver.PublicKey, new byte[packetSize]);
        }

        // The burst goes through at once; then nothing more until the relay's clock moves.
        await Eventually.TrueAsync(() => Volatile.Read(ref received) == burst / frameSize + 1, "the burst");
        var step = TimeSpan.FromMilliseconds(100);
        var advanced = TimeSpan.Zero;
        while (Volatile.Read(ref received) < count)
        {
            var before = Volatile.Read(ref received);
            clock.Advance(step);
            advanced += step;
            var deadline = DateTime.UtcNow.AddMilliseconds(200);
            while (Volatile.Read(ref received) == before && DateTime.UtcNow < deadline)
            {
                await Task.Delay(5);
            }

            Assert.True(advanced < TimeSpan.FromSeconds(10), "the limited client stalled");
        }

        await reader;

        // Bytes beyond the burst, over the relay's time, is the rate (give or take a frame and a step).
        var measured = ((count * frameSize) - burst) / advanced.TotalSeconds;
        Assert.InRange(measured, rate * 0.8, rate * 1.1);
    }
}
