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
        var clock = new SignallingClock();
        await using var relay = await TestRelay.StartAsync(TestRelay.Options() with { RateLimitBytesPerSecond = rate, RateLimitBurstBytes = burst }, time: clock);
        await using var sender = await TestRelay.ConnectedClientAsync(relay);
        await using var receiver = await TestRelay.ConnectedClientAsync(relay);
        Assert.Equal(rate, sender.ServerInfo!.RateLimitBytesPerSecond);
        clock.ForgetArmed(); // from here on, the relay arms a timer only to pause for tokens

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
        const int inBurst = (burst / frameSize) + 1;
        await Eventually.TrueAsync(() => Volatile.Read(ref received) == inBurst, "the burst");

        // Each frame after the burst follows one pause, and the clock moves by exactly that pause once
        // the relay takes it: a busy machine can slow the test, never add time the relay did not ask for.
        var advanced = TimeSpan.Zero;
        for (var i = inBurst; i < count; i++)
        {
            var pause = await clock.NextArmedAsync();
            clock.Advance(pause);
            advanced += pause;
        }

        await reader;

        // Bytes beyond the burst, over the relay's time, is the rate (give or take a frame).
        var measured = ((count * frameSize) - burst) / advanced.TotalSeconds;
        Assert.InRange(measured, rate * 0.8, rate * 1.1);
    }
}
