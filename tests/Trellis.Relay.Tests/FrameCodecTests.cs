using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Tests;

public class FrameCodecTests
{
    private static readonly Key A = X25519.PublicKey(X25519.GeneratePrivateKey());
    private static readonly Key B = X25519.PublicKey(X25519.GeneratePrivateKey());

    /// <summary>One encoding of every frame type, and a check that parses it back.</summary>
    public static IEnumerable<(FrameType Type, byte[] Frame, Func<byte[], bool> Check)> Frames()
    {
        var packet = new byte[1200];
        Random.Shared.NextBytes(packet);
        var challenge = new byte[RelayProtocol.ChallengeSize];
        Random.Shared.NextBytes(challenge);

        yield return (FrameType.ServerKey, Build(b => FrameCodec.WriteServerKey(b, A, challenge)),
            p => FrameCodec.TryParseServerKey(p, out var k, out var c) && k == A && c.SequenceEqual(challenge));
        var serverPrivate = X25519.GeneratePrivateKey();
        var clientPrivate = X25519.GeneratePrivateKey();
        yield return (FrameType.ClientInfo, HandshakeSeal.SealClientInfo(clientPrivate, X25519.PublicKey(serverPrivate), challenge, new RelayClientInfo { MeshKey = "m", CanAckPings = true }),
            p => HandshakeSeal.TryOpenClientInfo(serverPrivate, X25519.PublicKey(serverPrivate), challenge, p, out var k, out var info)
                 && k == X25519.PublicKey(clientPrivate) && info is { MeshKey: "m", CanAckPings: true, Version: RelayProtocol.Version });
        yield return (FrameType.ServerInfo, HandshakeSeal.SealServerInfo(serverPrivate, X25519.PublicKey(serverPrivate), X25519.PublicKey(clientPrivate), challenge, new RelayServerInfo { RateLimitBytesPerSecond = 5, RateLimitBurstBytes = 7 }),
            p => HandshakeSeal.TryOpenServerInfo(clientPrivate, X25519.PublicKey(serverPrivate), challenge, p, out var info) && info is { RateLimitBytesPerSecond: 5, RateLimitBurstBytes: 7, Error: null });
        yield return (FrameType.SendPacket, Build(b => FrameCodec.WritePacket(b, FrameType.SendPacket, B, packet)),
            p => FrameCodec.TryParsePacket(p, out var k, out var d) && k == B && d.SequenceEqual(packet));
        yield return (FrameType.ReceivePacket, Build(b => FrameCodec.WritePacket(b, FrameType.ReceivePacket, A, [])),
            p => FrameCodec.TryParsePacket(p, out var k, out var d) && k == A && d.IsEmpty);
        yield return (FrameType.KeepAlive, Build(b => FrameCodec.WriteEmpty(b, FrameType.KeepAlive)), p => p.Length == 0);
        yield return (FrameType.NotePreferred, Build(b => FrameCodec.WriteNotePreferred(b, true)), p => FrameCodec.TryParseNotePreferred(p, out var v) && v);
        yield return (FrameType.PeerGone, Build(b => FrameCodec.WritePeerGone(b, A, PeerGoneReason.NotHere)),
            p => FrameCodec.TryParsePeerGone(p, out var k, out var r) && k == A && r == PeerGoneReason.NotHere);
        yield return (FrameType.PeerPresent, Build(b => FrameCodec.WriteKey(b, FrameType.PeerPresent, B)), p => FrameCodec.TryParseKey(p, out var k) && k == B);
        yield return (FrameType.ForwardPacket, Build(b => FrameCodec.WriteForwardPacket(b, A, B, packet)),
            p => FrameCodec.TryParseForwardPacket(p, out var s, out var d, out var data) && s == A && d == B && data.SequenceEqual(packet));
        yield return (FrameType.WatchConns, Build(b => FrameCodec.WriteEmpty(b, FrameType.WatchConns)), p => p.Length == 0);
        yield return (FrameType.ClosePeer, Build(b => FrameCodec.WriteKey(b, FrameType.ClosePeer, A)), p => FrameCodec.TryParseKey(p, out var k) && k == A);
        yield return (FrameType.Ping, Build(b => FrameCodec.WritePing(b, FrameType.Ping, 0x0102030405060708)), p => FrameCodec.TryParsePing(p, out var v) && v == 0x0102030405060708);
        yield return (FrameType.Pong, Build(b => FrameCodec.WritePing(b, FrameType.Pong, ulong.MaxValue)), p => FrameCodec.TryParsePing(p, out var v) && v == ulong.MaxValue);
        yield return (FrameType.Health, Build(b => FrameCodec.WriteHealth(b, "mesh peer relay2 unreachable ✗")), p => FrameCodec.TryParseHealth(p, out var t) && t == "mesh peer relay2 unreachable ✗");
        yield return (FrameType.Restarting, Build(b => FrameCodec.WriteRestarting(b, TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(30))),
            p => FrameCodec.TryParseRestarting(p, out var r, out var t) && r == TimeSpan.FromMilliseconds(1500) && t == TimeSpan.FromSeconds(30));
    }

    private static byte[] Build(Func<byte[], int> write)
    {
        var buffer = new byte[RelayProtocol.HeaderSize + RelayProtocol.MaxFrameLength];
        return buffer[..write(buffer)];
    }

    [Fact]
    public void Every_frame_type_round_trips()
    {
        var frames = Frames().ToList();
        Assert.Equal(Enum.GetValues<FrameType>().Length, frames.Select(f => f.Type).Distinct().Count());
        foreach (var (type, frame, check) in frames)
        {
            Assert.Equal(FrameStatus.Complete, FrameCodec.TryReadFrame(frame, out var readType, out var payload, out var consumed));
            Assert.Equal(type, readType);
            Assert.Equal(frame.Length, consumed);
            Assert.True(check(payload.ToArray()), $"{type} did not round-trip");
        }
    }

    [Fact]
    public void Frames_back_to_back_are_read_one_at_a_time()
    {
        var all = Frames().SelectMany(f => f.Frame).ToArray();
        var types = new List<FrameType>();
        ReadOnlySpan<byte> rest = all;
        while (FrameCodec.TryReadFrame(rest, out var type, out _, out var consumed) == FrameStatus.Complete)
        {
            types.Add(type);
            rest = rest[consumed..];
        }

        Assert.True(rest.IsEmpty);
        Assert.Equal(Frames().Select(f => f.Type), types);
    }

    [Fact]
    public void Truncated_input_never_throws_and_never_parses_as_the_whole()
    {
        foreach (var (type, frame, check) in Frames())
        {
            for (var n = 0; n < frame.Length; n++)
            {
                Assert.Equal(FrameStatus.NeedMore, FrameCodec.TryReadFrame(frame.AsSpan(0, n), out _, out _, out _));
                if (n >= RelayProtocol.HeaderSize)
                {
                    // The payload cut short: the type's parser says no (packets may be any length, so only for fixed shapes).
                    var cut = frame[RelayProtocol.HeaderSize..n];
                    var parsed = check(cut);
                    if (type is not (FrameType.SendPacket or FrameType.ReceivePacket or FrameType.ForwardPacket or FrameType.Health))
                    {
                        Assert.False(parsed, $"{type} cut to {cut.Length} bytes parsed");
                    }
                }
            }
        }
    }

    [Fact]
    public void Parsers_reject_every_wrong_size_without_throwing()
    {
        for (var n = 0; n < 200; n++)
        {
            var junk = new byte[n];
            Random.Shared.NextBytes(junk);
            _ = FrameCodec.TryParseServerKey(junk, out _, out _);
            _ = FrameCodec.TryParsePacket(junk, out _, out _);
            _ = FrameCodec.TryParseForwardPacket(junk, out _, out _, out _);
            _ = FrameCodec.TryParseKey(junk, out _);
            _ = FrameCodec.TryParsePeerGone(junk, out _, out _);
            _ = FrameCodec.TryParseNotePreferred(junk, out _);
            _ = FrameCodec.TryParsePing(junk, out _);
            _ = FrameCodec.TryParseHealth(junk, out _);
            _ = FrameCodec.TryParseRestarting(junk, out _, out _);
            _ = HandshakeSeal.TryOpenClientInfo(X25519.GeneratePrivateKey(), A, new byte[32], junk, out _, out _);
            _ = HandshakeSeal.TryOpenServerInfo(X25519.GeneratePrivateKey(), A, new byte[32], junk, out _);
        }
    }

    [Fact]
    public void A_length_over_the_limit_is_reported_not_awaited()
    {
        var header = new byte[RelayProtocol.HeaderSize];
        FrameCodec.WriteHeader(header, FrameType.SendPacket, RelayProtocol.MaxFrameLength + 1);
        Assert.Equal(FrameStatus.TooLong, FrameCodec.TryReadFrame(header, out _, out _, out _));
        header[1] = header[2] = header[3] = header[4] = 0xff;
        Assert.Equal(FrameStatus.TooLong, FrameCodec.TryReadFrame(header, out _, out _, out _));
    }

    [Fact]
    public void A_packet_over_64_KiB_does_not_parse()
    {
        var payload = new byte[Key.Size + RelayProtocol.MaxPacketSize + 1];
        Assert.False(FrameCodec.TryParsePacket(payload, out _, out _));
        Assert.True(FrameCodec.TryParsePacket(payload.AsSpan(0, payload.Length - 1), out _, out var packet));
        Assert.Equal(RelayProtocol.MaxPacketSize, packet.Length);
    }
}
