using System.Buffers;
using Trellis.Relay.Server;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Tests;

public class SendQueueTests
{
    private static OutFrame Frame(byte tag)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16);
        buffer[0] = tag;
        return new OutFrame(buffer, 0, 1);
    }

    private static List<byte> Drain(SendQueue queue)
    {
        var tags = new List<byte>();
        while (queue.TryDequeue(out var frame))
        {
            tags.Add(frame.Buffer[0]);
            frame.Return();
        }

        return tags;
    }

    [Fact]
    public void A_full_queue_drops_the_oldest_packet_by_default()
    {
        var queue = new SendQueue(3, QueueFullMode.DropOldest);
        for (byte i = 1; i <= 5; i++)
        {
            var result = queue.TryEnqueue(Frame(i));
            Assert.Equal(i <= 3 ? EnqueueResult.Queued : EnqueueResult.QueuedDroppingOldest, result);
        }

        Assert.Equal([3, 4, 5], Drain(queue));
    }

    [Fact]
    public async Task A_deferred_enqueue_leaves_the_writer_asleep_until_one_wake_for_the_whole_burst()
    {
        var queue = new SendQueue(8, QueueFullMode.DropOldest);
        var waiting = queue.WaitToReadAsync().AsTask();
        for (byte i = 1; i <= 3; i++)
        {
            Assert.Equal(EnqueueResult.Queued, queue.TryEnqueue(Frame(i), deferWake: true));
        }

        Assert.False(waiting.IsCompleted);
        queue.Wake();
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal([1, 2, 3], Drain(queue));

        // Nothing queued: a wake wakes nobody, and the next wait still waits.
        var next = queue.WaitToReadAsync().AsTask();
        queue.Wake();
        Assert.False(next.IsCompleted);
        queue.TryEnqueue(Frame(4));
        Assert.True(await next.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_burst_that_fills_half_the_queue_wakes_the_writer_without_waiting_for_its_end()
    {
        var queue = new SendQueue(8, QueueFullMode.DropOldest);
        var waiting = queue.WaitToReadAsync().AsTask();
        for (byte i = 1; i <= 3; i++)
        {
            queue.TryEnqueue(Frame(i), deferWake: true);
        }

        Assert.False(waiting.IsCompleted);

        // The fourth frame makes the queue half full: the writer starts on what is there, so a burst
        // longer than the queue is written while it arrives instead of dropping its oldest frames.
        queue.TryEnqueue(Frame(4), deferWake: true);
        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal([1, 2, 3, 4], Drain(queue));
    }

    [Fact]
    public void Drop_newest_keeps_what_was_queued()
    {
        var queue = new SendQueue(2, QueueFullMode.DropNewest);
        queue.TryEnqueue(Frame(1));
        queue.TryEnqueue(Frame(2));
        Assert.Equal(EnqueueResult.DroppedNewest, queue.TryEnqueue(Frame(3)));
        Assert.Equal([1, 2], Drain(queue));
    }

    [Fact]
    public void Control_frames_go_before_packets_and_are_never_dropped_for_them()
    {
        var queue = new SendQueue(1, QueueFullMode.DropOldest);
        queue.TryEnqueue(Frame(1));
        queue.TryEnqueue(Frame(2));
        Assert.True(queue.EnqueueControl(Frame(9)));
        Assert.True(queue.EnqueueControl(Frame(8)));
        Assert.Equal([9, 8, 2], Drain(queue));
    }

    [Fact]
    public async Task The_writer_wakes_for_a_frame_and_ends_after_completion()
    {
        var queue = new SendQueue(4, QueueFullMode.DropOldest);
        var wait = queue.WaitToReadAsync();
        Assert.False(wait.IsCompleted);
        queue.TryEnqueue(Frame(1));
        Assert.True(await wait);
        Assert.Equal([1], Drain(queue));

        wait = queue.WaitToReadAsync();
        queue.Complete();
        await wait.AsTask().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.False(await queue.WaitToReadAsync());
        Assert.Equal(EnqueueResult.Closed, queue.TryEnqueue(Frame(2)));
    }

    [Fact]
    public async Task A_waiting_producer_continues_when_the_writer_takes_one()
    {
        var queue = new SendQueue(1, QueueFullMode.DropNewest);
        Assert.True(await queue.EnqueueAsync(Frame(1), CancellationToken.None));
        var second = queue.EnqueueAsync(Frame(2), CancellationToken.None).AsTask();
        Assert.False(second.IsCompleted);
        Assert.True(queue.TryDequeue(out var first));
        first.Return();
        Assert.True(await second.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal([2], Drain(queue));
    }

    [Fact]
    public async Task A_waiting_producer_gives_up_when_the_queue_closes()
    {
        var queue = new SendQueue(1, QueueFullMode.DropNewest);
        await queue.EnqueueAsync(Frame(1), CancellationToken.None);
        var second = queue.EnqueueAsync(Frame(2), CancellationToken.None).AsTask();
        queue.DrainAndReturn();
        Assert.False(await second.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void A_burst_longer_than_the_initial_ring_is_kept_whole_and_in_order_up_to_the_capacity()
    {
        const int capacity = SendQueue.InitialRing * 4;
        var queue = new SendQueue(capacity, QueueFullMode.DropOldest);
        for (var i = 0; i < capacity; i++)
        {
            Assert.Equal(EnqueueResult.Queued, queue.TryEnqueue(Frame((byte)i)));
        }

        // Taking some and adding more wraps the grown ring; the policy applies only at the capacity.
        Assert.True(queue.TryDequeue(out var first));
        first.Return();
        Assert.Equal(EnqueueResult.Queued, queue.TryEnqueue(Frame(capacity)));
        Assert.Equal(EnqueueResult.QueuedDroppingOldest, queue.TryEnqueue(Frame(capacity + 1)));

        Assert.Equal(Enumerable.Range(2, capacity).Select(i => (byte)i), Drain(queue));
    }

    [Fact]
    public async Task A_producer_that_may_wait_on_a_full_queue_gets_its_frame_in_once_the_writer_takes_one()
    {
        var queue = new SendQueue(2, QueueFullMode.DropNewest);
        queue.TryEnqueue(Frame(1));
        queue.TryEnqueue(Frame(2));
        var third = Task.Run(() => queue.TryEnqueue(Frame(3), deferWake: true, TimeSpan.FromMinutes(1)));

        Assert.True(queue.TryDequeue(out var taken));
        taken.Return();

        Assert.Equal(EnqueueResult.Queued, await third.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal([2, 3], Drain(queue));
    }

    [Fact]
    public void A_queue_still_full_after_the_wait_drops_by_its_policy()
    {
        var queue = new SendQueue(1, QueueFullMode.DropNewest);
        queue.TryEnqueue(Frame(1));
        Assert.Equal(EnqueueResult.DroppedNewest, queue.TryEnqueue(Frame(2), deferWake: true, TimeSpan.FromMilliseconds(1)));
        Assert.Equal([1], Drain(queue));
    }

    [Fact]
    public async Task A_producer_waiting_on_a_full_queue_gives_up_when_it_closes()
    {
        var queue = new SendQueue(1, QueueFullMode.DropNewest);
        queue.TryEnqueue(Frame(1));
        var second = Task.Run(() => queue.TryEnqueue(Frame(2), deferWake: true, TimeSpan.FromMinutes(1)));
        queue.DrainAndReturn();
        Assert.Equal(EnqueueResult.Closed, await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    private static OutFrame Frame(byte tag, int length)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        buffer[0] = tag;
        return new OutFrame(buffer, 0, length);
    }

    [Fact]
    public void A_queue_full_in_bytes_drops_by_its_policy_before_it_is_full_in_packets()
    {
        var oldest = new SendQueue(256, QueueFullMode.DropOldest, maxBytes: 3000);
        Assert.Equal(EnqueueResult.Queued, oldest.TryEnqueue(Frame(1, 1000)));
        Assert.Equal(EnqueueResult.Queued, oldest.TryEnqueue(Frame(2, 1000)));
        Assert.Equal(EnqueueResult.Queued, oldest.TryEnqueue(Frame(3, 1000)));

        // A large frame pushes out as many of the oldest as it needs room for.
        Assert.Equal(EnqueueResult.QueuedDroppingOldest, oldest.TryEnqueue(Frame(4, 2000)));
        Assert.Equal([3, 4], Drain(oldest));

        var newest = new SendQueue(256, QueueFullMode.DropNewest, maxBytes: 3000);
        newest.TryEnqueue(Frame(1, 2000));
        Assert.Equal(EnqueueResult.DroppedNewest, newest.TryEnqueue(Frame(2, 1001)));
        Assert.Equal(EnqueueResult.Queued, newest.TryEnqueue(Frame(3, 1000)));
        Assert.Equal([1, 3], Drain(newest));

        // Drained, it takes a frame larger than the limit: one frame always fits.
        Assert.Equal(EnqueueResult.Queued, newest.TryEnqueue(Frame(5, 4000)));
        Assert.Equal([5], Drain(newest));
    }
}
