using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Tests;

/// <summary>The relay's reader: one read brings a burst of frames; between bursts it holds no buffer.</summary>
public sealed class ReadAheadTests
{
    private const int ReadAhead = 8 * 1024;

    [Fact]
    public async Task A_burst_of_frames_arriving_together_is_parsed_from_one_read_and_the_buffer_goes_back()
    {
        var pool = new CountingPool(largeFrom: ReadAhead);
        var stream = new ScriptedStream();
        var reader = new FrameReader(stream, ReadAhead, pool, rentReadAhead: true);
        var burst = new List<byte>();
        for (var i = 1; i <= 3; i++)
        {
            burst.AddRange(Frame(100 * i, (byte)i));
        }

        stream.Feed([.. burst]);
        for (var i = 1; i <= 3; i++)
        {
            var frame = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            try
            {
                Assert.Equal(FrameType.SendPacket, frame.Type);
                Assert.Equal(100 * i, frame.Length);
                Assert.All(frame.Payload.ToArray(), b => Assert.Equal((byte)i, b));
            }
            finally
            {
                frame.Return();
            }
        }

        // A zero-byte wait for data, then one read that brought all three frames.
        Assert.Equal(0, await stream.Reads.Reader.ReadAsync());
        Assert.Equal(ReadAhead, await stream.Reads.Reader.ReadAsync());
        Assert.False(stream.Reads.Reader.TryRead(out _));
        Assert.Equal(1, pool.LargeRents);
        Assert.Equal(1, pool.Returns);
    }

    [Fact]
    public async Task The_reader_says_whether_a_whole_frame_is_read_ahead_so_the_relay_knows_when_a_burst_ends()
    {
        var stream = new ScriptedStream();
        var reader = new FrameReader(stream, ReadAhead, rentReadAhead: true);
        Assert.False(reader.HasBufferedFrame);

        // Two whole frames and the first bytes of a third arrive in one read.
        byte[] third = Frame(500, 3);
        stream.Feed([.. Frame(100, 1), .. Frame(200, 2), .. third[..(RelayProtocol.HeaderSize + 10)]]);
        (await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))).Return();
        Assert.True(reader.HasBufferedFrame);
        (await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30))).Return();
        Assert.False(reader.HasBufferedFrame);

        stream.Feed(third[(RelayProtocol.HeaderSize + 10)..]);
        var last = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(500, last.Length);
        last.Return();
        Assert.False(reader.HasBufferedFrame);
    }

    [Fact]
    public async Task Waiting_for_a_payload_after_its_header_holds_no_buffer()
    {
        var pool = new CountingPool(largeFrom: ReadAhead);
        var stream = new ScriptedStream();
        var reader = new FrameReader(stream, ReadAhead, pool, rentReadAhead: true);
        var frame = Frame(1000, 0x5a);

        stream.Feed(frame[..RelayProtocol.HeaderSize]);
        var reading = reader.ReadAsync().AsTask();
        Assert.Equal(0, await stream.Reads.Reader.ReadAsync());
        Assert.Equal(ReadAhead, await stream.Reads.Reader.ReadAsync());
        Assert.Equal(0, await stream.Reads.Reader.ReadAsync()); // the reader now waits for the payload
        Assert.False(reading.IsCompleted);
        Assert.Equal(pool.Rents, pool.Returns);

        stream.Feed(frame[RelayProtocol.HeaderSize..]);
        var read = await reading.WaitAsync(TimeSpan.FromSeconds(30));
        try
        {
            Assert.Equal(1000, read.Length);
            Assert.Equal(0x5a, read.Payload[^1]);
        }
        finally
        {
            read.Return();
        }
    }

    [Fact]
    public async Task A_frame_split_across_reads_arrives_whole()
    {
        var stream = new ScriptedStream();
        var reader = new FrameReader(stream, ReadAhead, rentReadAhead: true);
        var first = Frame(3000, 1);
        var second = Frame(2000, 2);
        byte[] both = [.. first, .. second];

        // Cut inside the first header, inside the first payload, and inside the second header.
        stream.Feed(both[..3]);
        stream.Feed(both[3..1500]);
        stream.Feed(both[1500..(first.Length + 2)]);
        stream.Feed(both[(first.Length + 2)..]);
        foreach (var (length, fill) in new[] { (3000, (byte)1), (2000, (byte)2) })
        {
            var frame = await reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            try
            {
                Assert.Equal(length, frame.Length);
                Assert.All(frame.Payload.ToArray(), b => Assert.Equal(fill, b));
            }
            finally
            {
                frame.Return();
            }
        }
    }

    private static byte[] Frame(int length, byte fill)
    {
        var frame = new byte[RelayProtocol.HeaderSize + length];
        FrameCodec.WriteHeader(frame, FrameType.SendPacket, length);
        frame.AsSpan(RelayProtocol.HeaderSize).Fill(fill);
        return frame;
    }
}
