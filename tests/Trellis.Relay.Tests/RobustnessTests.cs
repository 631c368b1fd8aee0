using Microsoft.Extensions.Time.Testing;
using System.Text;
using Trellis.Relay.Protocol;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

/// <summary>Bad input and bad behaviour end the connection that brought them, and nothing else.</summary>
public class RobustnessTests
{
    // Only a failing test waits this long.
    private static readonly TimeSpan SafetyNet = TimeSpan.FromSeconds(60);

    private static async Task<(RelayHost Relay, Client.RelayClient A, Client.RelayClient B)> PairAsync(
        Func<RelayServerOptions, RelayServerOptions>? configure = null, TimeProvider? time = null)
    {
        var options = TestRelay.Options();
        var relay = await TestRelay.StartAsync(configure?.Invoke(options) ?? options, time: time);
        return (relay, await TestRelay.ConnectedClientAsync(relay), await TestRelay.ConnectedClientAsync(relay));
    }

    private static async Task DisposeAsync((RelayHost Relay, Client.RelayClient A, Client.RelayClient B) pair)
    {
        await pair.A.DisposeAsync();
        await pair.B.DisposeAsync();
        await pair.Relay.DisposeAsync();
    }

    private static byte[] Header(FrameType type, uint length, int extra = 0)
    {
        var frame = new byte[RelayProtocol.HeaderSize + extra];
        frame[0] = (byte)type;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), length);
        return frame;
    }

    public static TheoryData<string, byte[]> BadFrames() => new()
    {
        { "a SendPacket shorter than a key", Header(FrameType.SendPacket, 10, 10) },
        { "a length of 4 GiB", Header(FrameType.SendPacket, uint.MaxValue) },
        { "a length just over the limit", Header(FrameType.SendPacket, RelayProtocol.MaxFrameLength + 1) },
        { "a ping of the wrong size", Header(FrameType.Ping, 3, 3) },
        { "a ForwardPacket from a client that is no mesh peer", Header(FrameType.ForwardPacket, 64, 64) },
        { "a WatchConns from a client that is no mesh peer", Header(FrameType.WatchConns, 0) },
        { "a ServerInfo from the client", Header(FrameType.ServerInfo, 40, 40) },
    };

    [Theory]
    [MemberData(nameof(BadFrames))]
    public async Task A_bad_frame_after_the_handshake_closes_that_connection_only(string what, byte[] frame)
    {
        var pair = await PairAsync();
        try
        {
            await using var bad = await RawRelayConnection.HandshakeAsync(pair.Relay.RelayUrl);
            await bad.WriteAsync(frame);
            Assert.True(await bad.ClosedByServerAsync(), $"{what} did not close the connection");
            await PacketExchange.BothWaysAsync(pair.A, pair.B, 100);
            await Eventually.TrueAsync(() => pair.Relay.Server.Stats.Clients == 2, "the bad client to be gone");
        }
        finally
        {
            await DisposeAsync(pair);
        }
    }

    [Fact]
    public async Task Garbage_instead_of_HTTP_is_answered_by_the_web_server_and_forgotten()
    {
        var pair = await PairAsync();
        try
        {
            await using var garbage = await RawRelayConnection.ConnectAsync(pair.Relay.RelayUrl);
            var junk = new byte[4096];
            Random.Shared.NextBytes(junk);
            await garbage.WriteAsync(junk);
            Assert.True(await garbage.ClosedByServerAsync());
            await PacketExchange.EchoAsync(pair.A, pair.B, 20);
        }
        finally
        {
            await DisposeAsync(pair);
        }
    }

    [Fact]
    public async Task Garbage_instead_of_the_client_info_fails_the_handshake()
    {
        var pair = await PairAsync();
        try
        {
            await using var garbage = await RawRelayConnection.UpgradeAsync(pair.Relay.RelayUrl);
            Assert.Equal(FrameType.ServerKey, (await garbage.ReadFrameAsync()).Type);
            await garbage.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
            Assert.True(await garbage.ClosedByServerAsync());

            await using var forged = await RawRelayConnection.UpgradeAsync(pair.Relay.RelayUrl);
            await forged.ReadFrameAsync();
            var payload = new byte[200];
            Random.Shared.NextBytes(payload);
            await forged.WriteAsync([.. Header(FrameType.ClientInfo, 200), .. payload]);
            Assert.True(await forged.ClosedByServerAsync());

            await Eventually.TrueAsync(() => pair.Relay.Server.Stats.HandshakesFailed == 2, "two failed handshakes");
            await PacketExchange.EchoAsync(pair.A, pair.B, 20);
        }
        finally
        {
            await DisposeAsync(pair);
        }
    }

    [Fact]
    public async Task A_connection_that_never_says_who_it_is_is_closed_at_the_handshake_timeout()
    {
        // On the relay's own clock: a real 300 ms also cut short the handshakes of A and B on a busy machine.
        var clock = new SignallingClock();
        var handshakeTimeout = TimeSpan.FromSeconds(7);
        var pair = await PairAsync(o => o with { HandshakeTimeout = handshakeTimeout }, clock);
        try
        {
            clock.ForgetArmed();
            await using var silent = await RawRelayConnection.UpgradeAsync(pair.Relay.RelayUrl);
            Assert.Equal(handshakeTimeout, await clock.NextArmedAsync());
            clock.Advance(handshakeTimeout);
            Assert.True(await silent.ClosedByServerAsync(SafetyNet));
            await PacketExchange.EchoAsync(pair.A, pair.B, 20);
        }
        finally
        {
            await DisposeAsync(pair);
        }
    }

    [Fact]
    public async Task An_unknown_frame_type_is_skipped()
    {
        var pair = await PairAsync();
        try
        {
            await using var newer = await RawRelayConnection.HandshakeAsync(pair.Relay.RelayUrl);
            var packet = new byte[100];
            var send = new byte[RelayProtocol.HeaderSize + 32 + packet.Length];
            FrameCodec.WritePacket(send, FrameType.SendPacket, pair.A.PublicKey, packet);
            await newer.WriteAsync([.. Header((FrameType)0x7f, 3, 3), .. send]);
            using var received = await pair.A.Packets.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(newer.PublicKey, received.Source);
        }
        finally
        {
            await DisposeAsync(pair);
        }
    }

    [Fact]
    public async Task A_client_that_never_reads_costs_only_itself_and_is_dropped_when_its_writes_stall()
    {
        // Write stalls are timed on the relay's clock, moved once the blast is over: a reader slowed by a
        // busy machine must not count as stuck while the test is still sending.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var options = TestRelay.Options() with
        {
            SendQueueLength = 32,
            WriteTimeout = TimeSpan.FromSeconds(1),
            HousekeepingInterval = TimeSpan.FromMilliseconds(100),
        };
        var pair = await PairAsync(_ => options, clock);
        try
        {
            await using var stuck = await RawRelayConnection.HandshakeAsync(pair.Relay.RelayUrl);
            await using var blaster = await TestRelay.ConnectedClientAsync(pair.Relay);
            var blast = Task.Run(async () =>
            {
                var packet = new byte[16 * 1024];
                for (var i = 0; i < 3000; i++)
                {
                    await blaster.SendAsync(stuck.PublicKey, packet);
                }
            });

            await PacketExchange.EchoAsync(pair.A, pair.B, 300);
            await blast.WaitAsync(SafetyNet);
            clock.Advance(options.WriteTimeout + options.HousekeepingInterval);
            await Eventually.TrueAsync(() => pair.Relay.Server.Stats.Clients == 3, "the stuck client to be dropped");
            Assert.True(pair.Relay.Server.Stats.DropsQueueFull > 0);
            await PacketExchange.EchoAsync(pair.A, pair.B, 20);
        }
        finally
        {
            await DisposeAsync(pair);
        }
    }
}
