using System.Net;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;

namespace Trellis.Core.Tests;

public class SlotQueueTests
{
    private static readonly Endpoint From = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 41641));

    private static PacketBuffer[] Buffers(int n) => [.. Enumerable.Range(0, n).Select(_ => new PacketBuffer())];

    [Fact]
    public void A_full_queue_drops_at_once_unless_the_producer_may_wait()
    {
        var queue = new SlotQueue(2, 16);
        Assert.True(queue.Enqueue([1], From));
        Assert.True(queue.Enqueue([2], From));
        Assert.False(queue.Enqueue([3], From));
        Assert.False(queue.Enqueue([4], From, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(2, queue.Dropped);
    }

    [Fact]
    public async Task A_producer_waiting_on_a_full_queue_gets_its_packet_in_once_the_consumer_takes_some()
    {
        var queue = new SlotQueue(2, 16);
        queue.Enqueue([1], From);
        queue.Enqueue([2], From);
        var third = Task.Run(() => queue.Enqueue([3], From, TimeSpan.FromMinutes(1)));

        var into = Buffers(1);
        Assert.Equal(1, queue.Dequeue(into, 0));
        Assert.True(await third.WaitAsync(TimeSpan.FromSeconds(30)));

        into = Buffers(2);
        Assert.Equal(2, queue.Dequeue(into, 0));
        Assert.Equal([2, 3], into.Select(b => b.Packet[0]));
        Assert.Equal(0, queue.Dropped);
    }

    [Fact]
    public async Task A_producer_waiting_on_a_full_queue_gives_up_when_it_closes()
    {
        var queue = new SlotQueue(1, 16);
        queue.Enqueue([1], From);
        var second = Task.Run(() => queue.Enqueue([2], From, TimeSpan.FromMinutes(1)));
        queue.Close();
        Assert.False(await second.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
