using Microsoft.Extensions.Time.Testing;

namespace Trellis.WireGuard.Tests;

/// <summary>
/// A direction's batches: made as traffic needs them, never more than the limit, never on the packet
/// thread, and let go of once an interval passes without needing them.
/// </summary>
public class BatchPoolTests
{
    private const int PacketBufferBytes = Trellis.Core.Transport.PacketBuffer.Capacity;

    [Fact]
    public async Task A_pool_starts_with_one_batch_and_makes_more_only_while_every_batch_is_out_up_to_its_limit()
    {
        using var pool = new BatchPool(capacity: 3, batchSize: 2, initial: 1, new FakeTimeProvider());
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
        // The taking thread is a packet thread: it re-arms the pool's timer and waits, and never makes
        // the batch (its slab and the objects describing its buffers) itself.
        var start = GC.GetAllocatedBytesForCurrentThread();
        _ = new PacketBatch(8);
        var batchObjects = GC.GetAllocatedBytesForCurrentThread() - start;

        using var pool = new BatchPool(capacity: 2, batchSize: 8, initial: 1, new FakeTimeProvider());
        Assert.True(pool.Take(out _));
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(pool.Take(out var made));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(8, made.Packets.Length);
        Assert.All(made.Packets, packet => Assert.Equal(PacketBufferBytes, packet.Data.Length));
        Assert.True(allocated < batchObjects, $"{allocated} bytes allocated on the taking thread, a batch's objects are {batchObjects}");
    }

    [Fact]
    public void After_a_burst_the_pool_lets_go_of_the_batches_an_interval_did_not_need_down_to_two()
    {
        var time = new FakeTimeProvider();
        using var pool = new BatchPool(capacity: 6, batchSize: 1, initial: 1, time);
        var burst = new PacketBatch[5];
        for (var i = 0; i < burst.Length; i++)
        {
            Assert.True(pool.Take(out burst[i]));
        }

        foreach (var batch in burst)
        {
            Assert.True(pool.TryAdd(batch));
        }

        Assert.Equal(5, pool.Created);
        time.Advance(Constants.BatchTrimInterval); // the interval had the burst: all five were needed
        Assert.Equal(5, pool.Created);

        // Light traffic: three out at once at most.
        for (var round = 0; round < 3; round++)
        {
            Assert.True(pool.Take(out var a));
            Assert.True(pool.Take(out var b));
            Assert.True(pool.Take(out var c));
            Assert.True(pool.TryAdd(a));
            Assert.True(pool.TryAdd(b));
            Assert.True(pool.TryAdd(c));
        }

        time.Advance(Constants.BatchTrimInterval);
        Assert.Equal(3, pool.Created);

        // Idle, but for the reader blocked in its read with one batch: two are kept.
        Assert.True(pool.Take(out var held));
        time.Advance(Constants.BatchTrimInterval);
        time.Advance(Constants.BatchTrimInterval);
        Assert.Equal(BatchPool.Kept, pool.Created);
        Assert.True(pool.TryAdd(held));

        // The next burst makes batches again.
        for (var i = 0; i < 4; i++)
        {
            Assert.True(pool.Take(out burst[i]));
        }

        Assert.Equal(4, pool.Created);
    }
}
