using System.Buffers.Binary;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;

namespace Trellis.Discovery.Messages;

/// <summary>
/// The wire form of discovery messages (PROTOCOLS.md section 5).
/// Outer: "TRLDSC" (6) || sender disco public key (32) || nonce (24) || XChaCha20-Poly1305(inner),
/// the first 38 bytes as associated data so the sender key cannot be swapped.
/// Inner: type (1) || body. Ping: tx id (12) || node key (32). Pong: tx id (12) || address (16,
/// IPv4 mapped) || port (2, big-endian). CallMeMaybe: n x (address (16) || port (2)). PortGuess: step (1).
/// PeerRelayRequest: node key (32). PeerRelayGrant: handle (4, big-endian, 1 to 2^24-1) || node key (32).
/// Longer bodies than needed are accepted (later versions may append fields).
/// </summary>
public static class DiscoCodec
{
    public const int MagicSize = 6;
    public const int HeaderSize = MagicSize + Key.Size + XAead.NonceSize;
    public const int Overhead = HeaderSize + XAead.TagSize;
    public const int EndpointSize = 18;
    public const int MaxEndpoints = 32;
    public const int MaxInnerSize = 1 + (EndpointSize * MaxEndpoints);
    public const int MaxPacketSize = Overhead + MaxInnerSize;

    public static ReadOnlySpan<byte> Magic => "TRLDSC"u8;

    public static bool IsDisco(ReadOnlySpan<byte> packet) => packet.Length >= MagicSize && packet[..MagicSize].SequenceEqual(Magic);

    /// <summary>Writes the inner (plaintext) form; returns its length.</summary>
    public static int WriteInner(in DiscoMessage message, Span<byte> destination)
    {
        destination[0] = (byte)message.Type;
        switch (message.Type)
        {
            case DiscoMessageType.Ping:
                message.TxId.Write(destination[1..]);
                message.NodeKey.CopyTo(destination[(1 + DiscoTxId.Size)..]);
                return 1 + DiscoTxId.Size + Key.Size;
            case DiscoMessageType.Pong:
                message.TxId.Write(destination[1..]);
                WriteEndpoint(message.Observed, destination[(1 + DiscoTxId.Size)..]);
                return 1 + DiscoTxId.Size + EndpointSize;
            case DiscoMessageType.CallMeMaybe:
                var n = Math.Min(message.Endpoints.Count, MaxEndpoints);
                for (var i = 0; i < n; i++)
                {
                    WriteEndpoint(message.Endpoints[i], destination[(1 + (i * EndpointSize))..]);
                }

                return 1 + (n * EndpointSize);
            case DiscoMessageType.PortGuess:
                destination[1] = (byte)message.GuessStep;
                return 2;
            case DiscoMessageType.PeerRelayRequest:
                message.NodeKey.CopyTo(destination[1..]);
                return 1 + Key.Size;
            case DiscoMessageType.PeerRelayGrant:
                BinaryPrimitives.WriteInt32BigEndian(destination[1..], message.Handle);
                message.NodeKey.CopyTo(destination[(1 + sizeof(int))..]);
                return 1 + sizeof(int) + Key.Size;
            default:
                throw new ArgumentException($"unknown disco message type {message.Type}", nameof(message));
        }
    }

    /// <summary>Decodes the inner form; false for an unknown type or a short body.</summary>
    public static bool TryReadInner(ReadOnlySpan<byte> inner, out DiscoMessage message)
    {
        message = default;
        if (inner.IsEmpty)
        {
            return false;
        }

        var body = inner[1..];
        switch ((DiscoMessageType)inner[0])
        {
            case DiscoMessageType.Ping when body.Length >= DiscoTxId.Size + Key.Size:
                message = DiscoMessage.Ping(DiscoTxId.Read(body), new Key(body.Slice(DiscoTxId.Size, Key.Size)));
                return true;
            case DiscoMessageType.Pong when body.Length >= DiscoTxId.Size + EndpointSize:
                message = DiscoMessage.Pong(DiscoTxId.Read(body), ReadEndpoint(body[DiscoTxId.Size..]));
                return true;
            case DiscoMessageType.CallMeMaybe when body.Length % EndpointSize == 0 && body.Length <= MaxEndpoints * EndpointSize:
                var endpoints = new Endpoint[body.Length / EndpointSize];
                for (var i = 0; i < endpoints.Length; i++)
                {
                    endpoints[i] = ReadEndpoint(body[(i * EndpointSize)..]);
                }

                message = DiscoMessage.CallMeMaybe(endpoints);
                return true;
            case DiscoMessageType.PortGuess when body.Length == 1 && (PortGuessStep)body[0] is PortGuessStep.Offer or PortGuessStep.Go:
                message = DiscoMessage.PortGuess((PortGuessStep)body[0]);
                return true;
            case DiscoMessageType.PeerRelayRequest when body.Length >= Key.Size:
                message = DiscoMessage.PeerRelayRequest(new Key(body[..Key.Size]));
                return true;
            case DiscoMessageType.PeerRelayGrant when body.Length >= sizeof(int) + Key.Size
                && BinaryPrimitives.ReadInt32BigEndian(body) is >= 1 and <= PeerRelay.PeerRelayWire.MaxHandle:
                message = DiscoMessage.PeerRelayGrant(new Key(body.Slice(sizeof(int), Key.Size)), BinaryPrimitives.ReadInt32BigEndian(body));
                return true;
            default:
                return false;
        }
    }

    internal static void WriteEndpoint(in Endpoint endpoint, Span<byte> destination)
    {
        endpoint.WriteAddress16(destination);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], endpoint.Port);
    }

    internal static Endpoint ReadEndpoint(ReadOnlySpan<byte> source) =>
        Endpoint.FromAddressBytes(source[..16], BinaryPrimitives.ReadUInt16BigEndian(source[16..]));
}
