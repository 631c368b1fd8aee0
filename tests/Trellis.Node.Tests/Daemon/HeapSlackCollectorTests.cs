using Microsoft.Extensions.Time.Testing;
using Trellis.Node.Daemon;

namespace Trellis.Node.Tests.Daemon;

public sealed class HeapSlackCollectorTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(12 * MiB, 0, true)] // no full collection yet: the first check makes the baseline
    [InlineData(8 * MiB, 7 * MiB, false)] // 1 MiB of slack is allowed
    [InlineData(8 * MiB + 1, 7 * MiB, true)]
    [InlineData(112 * MiB, 100 * MiB, false)] // a large heap may grow by an eighth
    [InlineData(113 * MiB, 100 * MiB, true)]
    [InlineData(6 * MiB, 7 * MiB, false)] // smaller than after the last full collection (gen0 just collected)
    public void Collects_only_when_the_heap_has_grown_past_the_last_full_collection_by_more_than_the_slack(long heap, long afterFull, bool expected) =>
        Assert.Equal(expected, HeapSlackCollector.SlackExceeded(new HeapReading(heap, afterFull)));

    [Fact]
    public void Checks_every_two_minutes_and_collects_while_the_slack_is_over()
    {
        var time = new FakeTimeProvider();
        var reading = new HeapReading(7 * MiB + MiB / 2, 7 * MiB);
        var collected = 0;
        using var collector = new HeapSlackCollector(time, () => reading, () =>
        {
            collected++;
            reading = new HeapReading(7 * MiB, 7 * MiB);
        });

        time.Advance(HeapSlackCollector.CheckEvery);
        Assert.Equal(0, collected); // half a MiB of slack

        reading = new HeapReading(12 * MiB, 7 * MiB);
        time.Advance(HeapSlackCollector.CheckEvery - TimeSpan.FromSeconds(1));
        Assert.Equal(0, collected); // not yet due
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, collected);
        Assert.Equal(1, collector.Collections);

        time.Advance(HeapSlackCollector.CheckEvery);
        Assert.Equal(1, collected); // the collection brought the heap back

        collector.Dispose();
        reading = new HeapReading(50 * MiB, 7 * MiB);
        time.Advance(HeapSlackCollector.CheckEvery * 3);
        Assert.Equal(1, collected); // stopped
    }

    [Fact]
    public void The_real_collection_leaves_a_heap_after_a_full_collection_that_the_next_check_reads()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var reading = HeapReading.Now();
        Assert.True(reading.LiveAfterFullBytes > 0, $"live after the last full collection: {reading.LiveAfterFullBytes}");
        Assert.True(reading.HeapBytes > 0, $"heap: {reading.HeapBytes}");
    }
}
