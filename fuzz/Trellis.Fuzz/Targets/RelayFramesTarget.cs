using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// A relay connection's byte stream after the upgrade: every frame read by <see cref="FrameReader"/>
/// (an oversized frame is an <see cref="InvalidDataException"/>, a stream cut inside a frame an
/// <see cref="EndOfStreamException"/>) and its payload parsed as its type says; the same bytes
/// through <see cref="FrameCodec.TryReadFrame"/>, which the node's read-ahead buffer uses.
/// </summary>
public static class RelayFramesTarget
{
    public static bool Run(ReadOnlySpan<byte> input)
    {
        var rest = input;
        var parsed = 0;
        while (FrameCodec.TryReadFrame(rest, out var type, out var payload, out var consumed) == FrameStatus.Complete)
        {
            parsed += ParsePayload(type, payload) ? 1 : 0;
            rest = rest[consumed..];
        }

        using var stream = new MemoryStream(input.ToArray(), writable: false);
        var reader = new FrameReader(stream, readAhead: 64);
        try
        {
            while (true)
            {
                var frame = reader.ReadAsync().AsTask().GetAwaiter().GetResult();
                if (frame.IsEnd)
                {
                    return parsed > 0;
                }

                _ = ParsePayload(frame.Type, frame.Payload);
                frame.Return();
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            return false;
        }
    }

    private static bool ParsePayload(FrameType type, ReadOnlySpan<byte> payload) =>
        type switch
        {
            FrameType.ServerKey => FrameCodec.TryParseServerKey(payload, out _, out _),
            FrameType.SendPacket or FrameType.ReceivePacket => FrameCodec.TryParsePacket(payload, out _, out _),
            FrameType.ForwardPacket => FrameCodec.TryParseForwardPacket(payload, out _, out _, out _),
            FrameType.PeerPresent or FrameType.ClosePeer => FrameCodec.TryParseKey(payload, out _),
            FrameType.PeerGone => FrameCodec.TryParsePeerGone(payload, out _, out _),
            FrameType.NotePreferred => FrameCodec.TryParseNotePreferred(payload, out _),
            FrameType.Ping or FrameType.Pong => FrameCodec.TryParsePing(payload, out _),
            FrameType.Health => FrameCodec.TryParseHealth(payload, out _),
            FrameType.Restarting => FrameCodec.TryParseRestarting(payload, out _, out _),
            FrameType.KeepAlive or FrameType.WatchConns => payload.IsEmpty,
            _ => false,
        };
}
