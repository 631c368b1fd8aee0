namespace Trellis.WireGuard.Tests;

/// <summary>The ordered stage's wait for a batch: it blocks, wakes, and allocates nothing on the way.</summary>
public class BatchSignalTests
{
    [Fact]
    public void Waiting_for_a_batch_allocates_nothing_even_when_the_wait_blocks()
    {
        var batch = new PacketBatch(1);
        batch.Processed.Reset();
        long allocated = -1;
        var waiter = new Thread(() =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            batch.Processed.Wait();
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        });
        waiter.Start();

        // Set only once the waiter sleeps in the wait, past its spinning (whose yields look like brief
        // sleeps, hence a run of sightings): the path a busy machine takes.
        var patience = Environment.TickCount64 + (long)DevicePair.Patience.TotalMilliseconds;
        var asleep = 0;
        while (asleep < 100 && Environment.TickCount64 < patience)
        {
            asleep = (waiter.ThreadState & ThreadState.WaitSleepJoin) != 0 ? asleep + 1 : 0;
            Thread.Yield();
        }

        batch.Processed.Set();
        Assert.True(waiter.Join(DevicePair.Patience), "the waiter never woke");
        Assert.True(batch.Processed.IsSet);
        Assert.Equal(0, allocated);
    }
}
