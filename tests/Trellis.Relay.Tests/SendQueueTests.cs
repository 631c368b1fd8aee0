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
}
