using System.Security.Cryptography;
using System.Text.Json;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Relay.Protocol;

/// <summary>
/// Seals and opens the ClientInfo and ServerInfo frames. The keys come from X25519(client node key,
/// server key) through the WireGuard KDF under a label, bound to both public keys, one per direction;
/// the server's per-connection challenge is the associated data, so only the holder of the node
/// private key can answer this connection (a recorded ClientInfo cannot be replayed).
/// </summary>
public static class HandshakeSeal
{
    private const int MaxInfoJson = 4096;

    private static ReadOnlySpan<byte> Label => "trellis relay v1 client-info"u8;

    /// <summary>The ClientInfo frame: client public key, nonce, sealed JSON.</summary>
    public static byte[] SealClientInfo(in Key clientPrivate, in Key serverPublic, ReadOnlySpan<byte> challenge, RelayClientInfo info)
    {
        var clientPublic = X25519.PublicKey(clientPrivate);
        Span<byte> c2s = stackalloc byte[32];
        Span<byte> s2c = stackalloc byte[32];
        if (!DeriveKeys(clientPrivate, serverPublic, clientPublic, serverPublic, c2s, s2c))
        {
            throw new InvalidOperationException("the server's public key is a low-order point");
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(info, RelayJsonContext.Default.RelayClientInfo);
        var payloadLength = Key.Size + XAead.NonceSize + json.Length + XAead.TagSize;
        var frame = new byte[FrameCodec.FrameSize(payloadLength)];
        FrameCodec.WriteHeader(frame, FrameType.ClientInfo, payloadLength);
        var payload = frame.AsSpan(RelayProtocol.HeaderSize);
        clientPublic.CopyTo(payload);
        RandomNumberGenerator.Fill(payload.Slice(Key.Size, XAead.NonceSize));
        XAead.Seal(c2s, payload.Slice(Key.Size, XAead.NonceSize), json, challenge, payload[(Key.Size + XAead.NonceSize)..]);
        c2s.Clear();
        s2c.Clear();
        return frame;
    }

    /// <summary>Opens a ClientInfo payload; false when it is malformed or does not authenticate.</summary>
    public static bool TryOpenClientInfo(in Key serverPrivate, in Key serverPublic, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> payload, out Key clientPublic, out RelayClientInfo? info)
    {
        info = null;
        clientPublic = default;
        if (payload.Length < Key.Size + XAead.NonceSize + XAead.TagSize || payload.Length > Key.Size + XAead.NonceSize + MaxInfoJson)
        {
            return false;
        }

        clientPublic = new Key(payload[..Key.Size]);
        Span<byte> c2s = stackalloc byte[32];
        Span<byte> s2c = stackalloc byte[32];
        try
        {
            if (!DeriveKeys(serverPrivate, clientPublic, clientPublic, serverPublic, c2s, s2c))
            {
                return false;
            }

            var sealedJson = payload[(Key.Size + XAead.NonceSize)..];
            var json = new byte[sealedJson.Length - XAead.TagSize];
            if (!XAead.Open(c2s, payload.Slice(Key.Size, XAead.NonceSize), sealedJson, challenge, json))
            {
                return false;
            }

            info = Deserialize(json, RelayJsonContext.Default.RelayClientInfo);
            return info is not null;
        }
        finally
        {
            c2s.Clear();
            s2c.Clear();
        }
    }

    /// <summary>The ServerInfo frame for <paramref name="clientPublic"/>: nonce, sealed JSON.</summary>
    public static byte[] SealServerInfo(in Key serverPrivate, in Key serverPublic, in Key clientPublic, ReadOnlySpan<byte> challenge, RelayServerInfo info)
    {
        Span<byte> c2s = stackalloc byte[32];
        Span<byte> s2c = stackalloc byte[32];
        if (!DeriveKeys(serverPrivate, clientPublic, clientPublic, serverPublic, c2s, s2c))
        {
            throw new InvalidOperationException("the client's public key is a low-order point");
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(info, RelayJsonContext.Default.RelayServerInfo);
        var payloadLength = XAead.NonceSize + json.Length + XAead.TagSize;
        var frame = new byte[FrameCodec.FrameSize(payloadLength)];
        FrameCodec.WriteHeader(frame, FrameType.ServerInfo, payloadLength);
        var payload = frame.AsSpan(RelayProtocol.HeaderSize);
        RandomNumberGenerator.Fill(payload[..XAead.NonceSize]);
        XAead.Seal(s2c, payload[..XAead.NonceSize], json, challenge, payload[XAead.NonceSize..]);
        c2s.Clear();
        s2c.Clear();
        return frame;
    }

    public static bool TryOpenServerInfo(in Key clientPrivate, in Key serverPublic, ReadOnlySpan<byte> challenge, ReadOnlySpan<byte> payload, out RelayServerInfo? info)
    {
        info = null;
        if (payload.Length < XAead.NonceSize + XAead.TagSize || payload.Length > XAead.NonceSize + MaxInfoJson)
        {
            return false;
        }

        Span<byte> c2s = stackalloc byte[32];
        Span<byte> s2c = stackalloc byte[32];
        try
        {
            if (!DeriveKeys(clientPrivate, serverPublic, X25519.PublicKey(clientPrivate), serverPublic, c2s, s2c))
            {
                return false;
            }

            var sealedJson = payload[XAead.NonceSize..];
            var json = new byte[sealedJson.Length - XAead.TagSize];
            if (!XAead.Open(s2c, payload[..XAead.NonceSize], sealedJson, challenge, json))
            {
                return false;
            }

            info = Deserialize(json, RelayJsonContext.Default.RelayServerInfo);
            return info is not null;
        }
        finally
        {
            c2s.Clear();
            s2c.Clear();
        }
    }

    private static bool DeriveKeys(in Key myPrivate, in Key theirPublic, in Key clientPublic, in Key serverPublic, Span<byte> clientToServer, Span<byte> serverToClient)
    {
        Span<byte> input = stackalloc byte[3 * Key.Size];
        Span<byte> chainingKey = stackalloc byte[Blake2s.HashSize];
        try
        {
            if (!X25519.SharedSecret(myPrivate, theirPublic, input))
            {
                return false;
            }

            clientPublic.CopyTo(input[Key.Size..]);
            serverPublic.CopyTo(input[(2 * Key.Size)..]);
            Blake2s.Hash(chainingKey, Label);
            Kdf.Derive(chainingKey, input, clientToServer, serverToClient);
            return true;
        }
        finally
        {
            input.Clear();
        }
    }

    private static T? Deserialize<T>(byte[] json, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
