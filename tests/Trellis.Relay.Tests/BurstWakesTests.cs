using System.Buffers;
using Trellis.Relay.Server;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Tests;

public sealed class BurstWakesTests
{
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(30);

    private static OutFrame Frame()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16);
        return new OutFrame(buffer, 0, 1);
    }

    [Fact]
    public async Task A_queue_filled_by_several_frames_of_a_burst_wakes_its_writer_once_the_burst_is_routed()
    {
        var wakes = new BurstWakes(4);
        var queue = new SendQueue(16, QueueFullMode.DropOldest);
        var writer = queue.WaitToReadAsync().AsTask();
        for (var i = 0; i < 3; i++)
        {
            queue.TryEnqueue(Frame(), deferWake: true);
            wakes.Add(queue);
        }

        Assert.False(writer.IsCompleted);
        wakes.WakeAll();
        Assert.True(await writer.WaitAsync(SafetyNet));
        queue.DrainAndReturn();
    }

    [Fact]
    public async Task Past_its_capacity_a_new_destination_wakes_at_once_and_the_remembered_ones_at_the_end()
    {
        var wakes = new BurstWakes(1);
        var first = new SendQueue(16, QueueFullMode.DropOldest);
        var second = new SendQueue(16, QueueFullMode.DropOldest);
        var firstWriter = first.WaitToReadAsync().AsTask();
        var secondWriter = second.WaitToReadAsync().AsTask();

        first.TryEnqueue(Frame(), deferWake: true);
        wakes.Add(first);
        second.TryEnqueue(Frame(), deferWake: true);
        wakes.Add(second);

        Assert.True(await secondWriter.WaitAsync(SafetyNet));
        Assert.False(firstWriter.IsCompleted);
        wakes.WakeAll();
        Assert.True(await firstWriter.WaitAsync(SafetyNet));
        first.DrainAndReturn();
        second.DrainAndReturn();
    }

    [Fact]
    public async Task After_a_wake_the_next_burst_starts_empty()
    {
        var wakes = new BurstWakes(1);
        var first = new SendQueue(16, QueueFullMode.DropOldest);
        var second = new SendQueue(16, QueueFullMode.DropOldest);
        first.TryEnqueue(Frame(), deferWake: true);
        wakes.Add(first);
        wakes.WakeAll();

        // Had the first burst's queue stayed remembered, this one would not fit and would wake at once.
        var secondWriter = second.WaitToReadAsync().AsTask();
        second.TryEnqueue(Frame(), deferWake: true);
        wakes.Add(second);
        Assert.False(secondWriter.IsCompleted);
        wakes.WakeAll();
        Assert.True(await secondWriter.WaitAsync(SafetyNet));
        first.DrainAndReturn();
        second.DrainAndReturn();
    }
}
