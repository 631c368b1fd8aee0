using Trellis.Relay.Server;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Tests;

/// <summary>The relay's frame pool keeps what a full send queue hands back, and no more than its stock.</summary>
public sealed class FramePoolTests
{
    /// <summary>A 1200-byte packet's frame as the relay's reader rents it: room in front, both keys' room, the packet.</summary>
    private const int PacketFrame = 37 + 32 + 1200;

    private const int QueueLength = 256;

    [Fact]
    public void A_relay_sized_queue_that_fills_and_drains_again_and_again_allocates_nothing_after_the_first_round()
    {
        // A pool of its own: tests running beside this one take and give back the shared instance's arrays.
        var pool = new FramePool();
        var queue = new SendQueue(QueueLength, QueueFullMode.DropOldest);
        FillAndDrain(queue, pool); // the first round allocates the arrays and grows the ring

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var round = 0; round < 20; round++)
        {
            FillAndDrain(queue, pool);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(QueueLength, pool.InStock);
    }

    [Fact]
    public void The_stock_is_bounded_and_other_sizes_pass_through_to_the_shared_pool()
    {
        var pool = new FramePool(stock: 4);
        var small = Enumerable.Range(0, 6).Select(_ => pool.Rent(PacketFrame)).ToList();
        Assert.All(small, array => Assert.Equal(FramePool.SmallSize, array.Length));
        foreach (var array in small)
        {
            pool.Return(array);
        }

        Assert.Equal(4, pool.InStock);

        var large = pool.Rent(FramePool.SmallSize + 1);
        Assert.True(large.Length > FramePool.SmallSize);
        pool.Return(large);
        Assert.Equal(4, pool.InStock);

        // The stock is last in, first out: the array just given back is the next one lent.
        var again = pool.Rent(1);
        Assert.Same(small[3], again);
        Assert.Equal(3, pool.InStock);
    }

    private static void FillAndDrain(SendQueue queue, FramePool pool)
    {
        for (var i = 0; i < QueueLength; i++)
        {
            var buffer = pool.Rent(PacketFrame);
            if (queue.TryEnqueue(new OutFrame(buffer, 0, PacketFrame), deferWake: true) != EnqueueResult.Queued)
            {
                throw new InvalidOperationException("the queue dropped a frame below its capacity"); // no assertion here: it may allocate
            }
        }

        while (queue.TryDequeue(out var frame))
        {
            pool.Return(frame.Buffer);
        }
    }
}
