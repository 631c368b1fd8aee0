using System.Buffers.Binary;
using System.Text;
using Trellis.Core.Keys;

namespace Trellis.Relay.Protocol;

/// <summary>The outcome of looking for one frame at the start of a buffer.</summary>
public enum FrameStatus
{
    Complete,
    NeedMore,

    /// <summary>The length exceeds <see cref="RelayProtocol.MaxFrameLength"/>: the connection cannot continue.</summary>
    TooLong,
}

/// <summary>
/// Writes and parses relay frames: type (1 byte), payload length (4 bytes, big-endian), payload.
/// Writers fill a span (callers size it with <see cref="FrameSize"/>) and return the bytes written;
/// parsers take a payload and return false for a malformed one. Nothing here throws on bad input.
/// </summary>
public static class FrameCodec
{
    public static int FrameSize(int payloadLength) => RelayProtocol.HeaderSize + payloadLength;

    public static void WriteHeader(Span<byte> destination, FrameType type, int payloadLength)
    {
        destination[0] = (byte)type;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)payloadLength);
    }

    /// <summary>Reads a header; false when fewer than five bytes are given.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> source, out FrameType type, out uint payloadLength)
    {
        if (source.Length < RelayProtocol.HeaderSize)
        {
            type = default;
            payloadLength = 0;
            return false;
        }

        type = (FrameType)source[0];
        payloadLength = BinaryPrimitives.ReadUInt32BigEndian(source[1..]);
        return true;
    }

    /// <summary>Finds the first whole frame in <paramref name="source"/>.</summary>
    public static FrameStatus TryReadFrame(ReadOnlySpan<byte> source, out FrameType type, out ReadOnlySpan<byte> payload, out int consumed)
    {
        payload = default;
        consumed = 0;
        if (!TryReadHeader(source, out type, out var length))
        {
            return FrameStatus.NeedMore;
        }

        if (length > RelayProtocol.MaxFrameLength)
        {
            return FrameStatus.TooLong;
        }

        if (source.Length - RelayProtocol.HeaderSize < length)
        {
            return FrameStatus.NeedMore;
        }

        payload = source.Slice(RelayProtocol.HeaderSize, (int)length);
        consumed = RelayProtocol.HeaderSize + (int)length;
        return FrameStatus.Complete;
    }

    public static int WriteServerKey(Span<byte> destination, in Key serverPublic, ReadOnlySpan<byte> challenge)
    {
        const int length = RelayProtocol.MagicSize + Key.Size + RelayProtocol.ChallengeSize;
        WriteHeader(destination, FrameType.ServerKey, length);
        var payload = destination.Slice(RelayProtocol.HeaderSize, length);
        RelayProtocol.Magic.CopyTo(payload);
        serverPublic.CopyTo(payload[RelayProtocol.MagicSize..]);
        challenge[..RelayProtocol.ChallengeSize].CopyTo(payload[(RelayProtocol.MagicSize + Key.Size)..]);
        return FrameSize(length);
    }

    public static bool TryParseServerKey(ReadOnlySpan<byte> payload, out Key serverPublic, out ReadOnlySpan<byte> challenge)
    {
        serverPublic = default;
        challenge = default;
        if (payload.Length != RelayProtocol.MagicSize + Key.Size + RelayProtocol.ChallengeSize || !payload[..RelayProtocol.MagicSize].SequenceEqual(RelayProtocol.Magic))
        {
            return false;
        }

        serverPublic = new Key(payload.Slice(RelayProtocol.MagicSize, Key.Size));
        challenge = payload[(RelayProtocol.MagicSize + Key.Size)..];
        return true;
    }

    /// <summary>A SendPacket (key = destination) or ReceivePacket (key = source) frame.</summary>
    public static int WritePacket(Span<byte> destination, FrameType type, in Key key, ReadOnlySpan<byte> packet)
    {
        WriteHeader(destination, type, Key.Size + packet.Length);
        key.CopyTo(destination[RelayProtocol.HeaderSize..]);
        packet.CopyTo(destination[(RelayProtocol.HeaderSize + Key.Size)..]);
        return FrameSize(Key.Size + packet.Length);
    }

    /// <summary>The key and packet of a SendPacket or ReceivePacket payload.</summary>
    public static bool TryParsePacket(ReadOnlySpan<byte> payload, out Key key, out ReadOnlySpan<byte> packet)
    {
        if (payload.Length < Key.Size || payload.Length - Key.Size > RelayProtocol.MaxPacketSize)
        {
            key = default;
            packet = default;
            return false;
        }

        key = new Key(payload[..Key.Size]);
        packet = payload[Key.Size..];
        return true;
    }

    public static int WriteForwardPacket(Span<byte> destination, in Key source, in Key target, ReadOnlySpan<byte> packet)
    {
        WriteHeader(destination, FrameType.ForwardPacket, (2 * Key.Size) + packet.Length);
        source.CopyTo(destination[RelayProtocol.HeaderSize..]);
        target.CopyTo(destination[(RelayProtocol.HeaderSize + Key.Size)..]);
        packet.CopyTo(destination[(RelayProtocol.HeaderSize + (2 * Key.Size))..]);
        return FrameSize((2 * Key.Size) + packet.Length);
    }

    public static bool TryParseForwardPacket(ReadOnlySpan<byte> payload, out Key source, out Key target, out ReadOnlySpan<byte> packet)
    {
        if (payload.Length < 2 * Key.Size || payload.Length - (2 * Key.Size) > RelayProtocol.MaxPacketSize)
        {
            source = default;
            target = default;
            packet = default;
            return false;
        }

        source = new Key(payload[..Key.Size]);
        target = new Key(payload.Slice(Key.Size, Key.Size));
        packet = payload[(2 * Key.Size)..];
        return true;
    }

    /// <summary>An empty frame: KeepAlive or WatchConns.</summary>
    public static int WriteEmpty(Span<byte> destination, FrameType type)
    {
        WriteHeader(destination, type, 0);
        return RelayProtocol.HeaderSize;
    }

    /// <summary>A frame whose payload is one key: PeerPresent or ClosePeer.</summary>
    public static int WriteKey(Span<byte> destination, FrameType type, in Key key)
    {
        WriteHeader(destination, type, Key.Size);
        key.CopyTo(destination[RelayProtocol.HeaderSize..]);
        return FrameSize(Key.Size);
    }

    public static bool TryParseKey(ReadOnlySpan<byte> payload, out Key key)
    {
        key = payload.Length == Key.Size ? new Key(payload) : default;
        return payload.Length == Key.Size;
    }

    public static int WritePeerGone(Span<byte> destination, in Key key, PeerGoneReason reason)
    {
        WriteHeader(destination, FrameType.PeerGone, Key.Size + 1);
        key.CopyTo(destination[RelayProtocol.HeaderSize..]);
        destination[RelayProtocol.HeaderSize + Key.Size] = (byte)reason;
        return FrameSize(Key.Size + 1);
    }

    public static bool TryParsePeerGone(ReadOnlySpan<byte> payload, out Key key, out PeerGoneReason reason)
    {
        if (payload.Length != Key.Size + 1)
        {
            key = default;
            reason = default;
            return false;
        }

        key = new Key(payload[..Key.Size]);
        reason = (PeerGoneReason)payload[Key.Size];
        return true;
    }

    public static int WriteNotePreferred(Span<byte> destination, bool preferred)
    {
        WriteHeader(destination, FrameType.NotePreferred, 1);
        destination[RelayProtocol.HeaderSize] = preferred ? (byte)1 : (byte)0;
        return FrameSize(1);
    }

    public static bool TryParseNotePreferred(ReadOnlySpan<byte> payload, out bool preferred)
    {
        preferred = payload.Length == 1 && payload[0] != 0;
        return payload.Length == 1;
    }

    /// <summary>Ping or Pong with its 8 bytes.</summary>
    public static int WritePing(Span<byte> destination, FrameType type, ulong data)
    {
        WriteHeader(destination, type, RelayProtocol.PingSize);
        BinaryPrimitives.WriteUInt64BigEndian(destination[RelayProtocol.HeaderSize..], data);
        return FrameSize(RelayProtocol.PingSize);
    }

    public static bool TryParsePing(ReadOnlySpan<byte> payload, out ulong data)
    {
        data = payload.Length == RelayProtocol.PingSize ? BinaryPrimitives.ReadUInt64BigEndian(payload) : 0;
        return payload.Length == RelayProtocol.PingSize;
    }

    /// <summary>The frame size of a Health frame for <paramref name="problem"/>.</summary>
    public static int HealthFrameSize(string problem) => FrameSize(Encoding.UTF8.GetByteCount(problem));

    public static int WriteHealth(Span<byte> destination, string problem)
    {
        var length = Encoding.UTF8.GetBytes(problem, destination[RelayProtocol.HeaderSize..]);
        WriteHeader(destination, FrameType.Health, length);
        return FrameSize(length);
    }

    public static bool TryParseHealth(ReadOnlySpan<byte> payload, out string problem)
    {
        try
        {
            problem = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(payload);
            return true;
        }
        catch (DecoderFallbackException)
        {
            problem = "";
            return false;
        }
    }

    public static int WriteRestarting(Span<byte> destination, TimeSpan reconnectIn, TimeSpan tryFor)
    {
        WriteHeader(destination, FrameType.Restarting, 8);
        BinaryPrimitives.WriteUInt32BigEndian(destination[RelayProtocol.HeaderSize..], Milliseconds(reconnectIn));
        BinaryPrimitives.WriteUInt32BigEndian(destination[(RelayProtocol.HeaderSize + 4)..], Milliseconds(tryFor));
        return FrameSize(8);
    }

    public static bool TryParseRestarting(ReadOnlySpan<byte> payload, out TimeSpan reconnectIn, out TimeSpan tryFor)
    {
        if (payload.Length != 8)
        {
            reconnectIn = tryFor = default;
            return false;
        }

        reconnectIn = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32BigEndian(payload));
        tryFor = TimeSpan.FromMilliseconds(BinaryPrimitives.ReadUInt32BigEndian(payload[4..]));
        return true;
    }

    private static uint Milliseconds(TimeSpan t) => (uint)Math.Clamp(t.TotalMilliseconds, 0, uint.MaxValue);
}
