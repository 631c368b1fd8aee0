using Microsoft.Extensions.Time.Testing;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Tests;

/// <summary>Connections that announce a frame and never send it hold no packet-sized buffer.</summary>
public sealed class HandshakeBufferTests
{
    private const int Large = 16 * 1024;

    [Fact]
    public async Task Idle_connections_announcing_a_packet_sized_client_info_are_cut_off_without_a_64_KiB_buffer()
    {
        const int Connections = 20;
        var pool = new CountingPool(Large);

        // The fake clock never runs out the handshake timeout: only the size check may end these connections.
        await using var relay = await TestRelay.StartAsync(TestRelay.Options() with { FramePool = pool }, time: new FakeTimeProvider());
        var header = new byte[RelayProtocol.HeaderSize];
        FrameCodec.WriteHeader(header, FrameType.ClientInfo, RelayProtocol.MaxFrameLength);
        var connections = new List<RawRelayConnection>();
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var connection = await RawRelayConnection.UpgradeAsync(relay.RelayUrl);
                connections.Add(connection);
                Assert.Equal(FrameType.ServerKey, (await connection.ReadFrameAsync()).Type);
                await connection.WriteAsync(header);
            }

            foreach (var connection in connections)
            {
                Assert.True(await connection.ClosedByServerAsync(TimeSpan.FromSeconds(60)), "the relay kept a connection that announced an oversized ClientInfo");
            }

            Assert.Equal(0, pool.LargeRents);
            await Eventually.TrueAsync(() => relay.Server.Stats.HandshakesFailed == Connections, "the failed handshakes to count");
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_frame_whose_payload_has_not_arrived_holds_no_buffer_until_it_does()
    {
        var pool = new CountingPool(largeFrom: 0);
        var stream = new ScriptedStream();
        var reader = new FrameReader(stream, readAhead: 0, pool);
        var frame = new byte[RelayProtocol.HeaderSize + 1000];
        FrameCodec.WriteHeader(frame, FrameType.SendPacket, 1000);
        frame[^1] = 0x5a;

        stream.Feed(frame[..RelayProtocol.HeaderSize]);
        var reading = reader.ReadAsync().AsTask();
        Assert.Equal(RelayProtocol.HeaderSize, await stream.Reads.Reader.ReadAsync());
        await stream.Reads.Reader.ReadAsync(); // the reader now waits for the payload
        Assert.Equal(0, pool.Rents);
        Assert.False(reading.IsCompleted);

        stream.Feed(frame[RelayProtocol.HeaderSize..]);
        var read = await reading.WaitAsync(TimeSpan.FromSeconds(30));
        try
        {
            Assert.Equal(FrameType.SendPacket, read.Type);
            Assert.Equal(1000, read.Length);
            Assert.Equal(0x5a, read.Payload[^1]);
            Assert.Equal(1, pool.Rents);
        }
        finally
        {
            read.Return();
        }
    }
}
