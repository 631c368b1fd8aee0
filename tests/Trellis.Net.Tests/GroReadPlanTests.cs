using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

public sealed class GroReadPlanTests
{
    private const int Batch = UdpBind.DefaultBatchSize;
    private const int Safe = Batch / UdpGsoRun.MaxSegments;
    private const int Full = Batch - UdpGsoRun.MaxSegments + 1;

    private static readonly Endpoint From = Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 51820));

    [Fact]
    public void A_new_socket_reads_only_as_many_messages_as_are_sure_to_fit_once_split()
    {
        var plan = new GroReadPlan();
        Assert.Equal(2, plan.Messages(Batch));
        Assert.Equal(1, plan.Messages(3));
    }

    [Fact]
    public void After_a_streak_of_full_receives_with_nothing_merged_it_reads_a_full_batch_less_room_for_one_merged_message()
    {
        var plan = new GroReadPlan();
        for (var i = 1; i < GroReadPlan.PlainStreak; i++)
        {
            plan.Observe(Safe, Safe, merged: false);
            Assert.Equal(Safe, plan.Messages(Batch));
        }

        plan.Observe(Safe, Safe, merged: false);
        Assert.Equal(65, plan.Messages(Batch));
        Assert.Equal(Full, plan.Messages(Batch));
        Assert.Equal(1, plan.Messages(3)); // a span too small for a merged message's room stays safe
    }

    [Fact]
    public void A_merged_message_sends_it_back_to_the_safe_size_at_once()
    {
        var plan = Trusting();

        plan.Observe(Full, 40, merged: true);

        Assert.Equal(Safe, plan.Messages(Batch));
    }

    [Fact]
    public void Receives_that_emptied_the_socket_neither_build_the_streak_nor_end_it()
    {
        var plan = new GroReadPlan();
        for (var i = 0; i < 3 * GroReadPlan.PlainStreak; i++)
        {
            plan.Observe(Safe, 1, merged: false);
        }

        Assert.Equal(Safe, plan.Messages(Batch));

        plan = Trusting();
        plan.Observe(Full, 3, merged: false);
        Assert.Equal(Full, plan.Messages(Batch));
    }

    [Fact]
    public void In_a_full_read_one_merged_message_of_the_most_datagrams_anywhere_still_splits_without_loss()
    {
        // 65 messages: 64 plain ones and, in the middle, one the kernel merged from 64 datagrams.
        var packets = PacketBuffer.AllocateBatch(Batch);
        var read = Trusting().Messages(Batch);
        var sizes = new int[read];
        var number = 0;
        for (var i = 0; i < read; i++)
        {
            var datagrams = i == 30 ? UdpGsoRun.MaxSegments : 1;
            var buffer = packets[i];
            for (var d = 0; d < datagrams; d++)
            {
                buffer.Data.Slice(d * 100, 100).Fill((byte)number++);
            }

            buffer.Offset = 0;
            buffer.Length = datagrams * 100;
            buffer.Endpoint = From;
            sizes[i] = datagrams > 1 ? 100 : 0;
        }

        var count = UdpGroSplitter.Split(packets, read, sizes, new GroRemainder(), out var dropped);

        Assert.Equal(0, dropped);
        Assert.Equal(Batch, count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(100, packets[i].Length);
            Assert.True(packets[i].Packet.IndexOfAnyExcept((byte)i) < 0, $"datagram {i} is not the {i}th sent");
        }
    }

    private static GroReadPlan Trusting()
    {
        var plan = new GroReadPlan();
        for (var i = 0; i < GroReadPlan.PlainStreak; i++)
        {
            plan.Observe(Safe, Safe, merged: false);
        }

        Assert.Equal(Full, plan.Messages(Batch));
        return plan;
    }
}
