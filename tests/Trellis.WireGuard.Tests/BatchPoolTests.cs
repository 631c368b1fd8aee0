namespace Trellis.WireGuard.Tests;

/// <summary>A direction's batches: made as traffic needs them, never more than the limit, never on the packet thread.</summary>
public class BatchPoolTests
{
    private const int PacketBufferBytes = Trellis.Core.Transport.PacketBuffer.Capacity;

    [Fact]
    public async Task A_pool_starts_with_one_batch_and_makes_more_only_while_every_batch_is_out_up_to_its_limit()
    {
        using var pool = new BatchPool(capacity: 3, batchSize: 2, initial: 1);
        Assert.Equal(1, pool.Created);

        // Taken and given back, one batch serves an idle device for good.
        for (var i = 0; i < 10; i++)
        {
            Assert.True(pool.Take(out var again));
            Assert.True(pool.TryAdd(again));
        }

        Assert.Equal(1, pool.Created);

        Assert.True(pool.Take(out var first));
        Assert.True(pool.Take(out var second)); // none free: a second is made, and this take waits for it
        Assert.True(pool.Take(out var third));
        Assert.Equal(3, pool.Created);
        Assert.Equal(3, new[] { first, second, third }.Distinct().Count());
        Assert.Equal(2, second.Packets.Length);

        // At the limit a take waits for a batch to come back instead of making a fourth.
        var fourth = Task.Run(() => pool.Take(out var batch) ? batch : null);
        Assert.True(pool.TryAdd(second));
        Assert.Same(second, await fourth.WaitAsync(DevicePair.Patience));
        Assert.Equal(3, pool.Created);

        pool.Close();
        Assert.False(pool.Take(out _));
    }

    [Fact]
    public void A_batch_the_pool_makes_is_not_allocated_on_the_thread_that_takes_it()
    {
        // The taking thread is a packet thread: it re-arms the pool's timer and waits, and never
        // allocates the batch's half a megabyte itself.
        using var pool = new BatchPool(capacity: 2, batchSize: 8, initial: 1);
        Assert.True(pool.Take(out _));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(pool.Take(out var made));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(8, made.Packets.Length); // eight 64 KiB buffers, allocated elsewhere
        Assert.True(allocated < PacketBufferBytes, $"{allocated} bytes allocated on the taking thread");
    }
}
