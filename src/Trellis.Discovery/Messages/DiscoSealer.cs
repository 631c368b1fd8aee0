using System.Collections.Concurrent;
using System.Security.Cryptography;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Discovery.Messages;

/// <summary>
/// Seals and opens discovery messages with this node's disco key. The key for a peer is
/// BLAKE2s("trellis disco v1" || X25519(ours, theirs)), the same in both directions (nonces are
/// random, 24 bytes, so sharing it is safe); it is derived once per peer and cached.
/// </summary>
public sealed class DiscoSealer
{
    /// <summary>Beyond this many cached keys the cache starts over (senders are not all trusted).</summary>
    private const int MaxCachedKeys = 4096;

    private readonly Key _privateKey;
    private readonly ConcurrentDictionary<Key, byte[]?> _keys = new();

    public DiscoSealer(Key privateKey)
    {
        _privateKey = privateKey;
        PublicKey = X25519.PublicKey(privateKey);
    }

    public Key PublicKey { get; }

    private static ReadOnlySpan<byte> Label => "trellis disco v1"u8;

    /// <summary>Writes the whole packet for <paramref name="peer"/>; returns its length.</summary>
    public int Seal(in Key peer, in DiscoMessage message, Span<byte> destination)
    {
        Span<byte> inner = stackalloc byte[DiscoCodec.MaxInnerSize];
        var innerLength = DiscoCodec.WriteInner(message, inner);
        var key = SharedKey(peer) ?? throw new ArgumentException("the peer's disco key is a low-order point", nameof(peer));
        DiscoCodec.Magic.CopyTo(destination);
        PublicKey.CopyTo(destination[DiscoCodec.MagicSize..]);
        var nonce = destination.Slice(DiscoCodec.MagicSize + Key.Size, XAead.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        XAead.Seal(key, nonce, inner[..innerLength], destination[..(DiscoCodec.MagicSize + Key.Size)], destination[DiscoCodec.HeaderSize..]);
        return DiscoCodec.Overhead + innerLength;
    }

    /// <summary>Opens and decodes a packet; false (never throws) for anything malformed, tampered or not for us.</summary>
    public bool TryOpen(ReadOnlySpan<byte> packet, out Key sender, out DiscoMessage message)
    {
        sender = default;
        message = default;
        if (packet.Length < DiscoCodec.Overhead + 1 || packet.Length > DiscoCodec.MaxPacketSize || !DiscoCodec.IsDisco(packet))
        {
            return false;
        }

        sender = new Key(packet.Slice(DiscoCodec.MagicSize, Key.Size));
        var key = SharedKey(sender);
        if (key is null)
        {
            return false;
        }

        Span<byte> inner = stackalloc byte[DiscoCodec.MaxInnerSize];
        var sealedData = packet[DiscoCodec.HeaderSize..];
        try
        {
            if (!XAead.Open(key, packet.Slice(DiscoCodec.MagicSize + Key.Size, XAead.NonceSize), sealedData, packet[..(DiscoCodec.MagicSize + Key.Size)], inner))
            {
                return false;
            }
        }
        catch (CryptographicException)
        {
            return false;
        }

        return DiscoCodec.TryReadInner(inner[..(sealedData.Length - XAead.TagSize)], out message);
    }

    /// <summary>Forgets a peer's cached key (it left the map).</summary>
    public void Forget(in Key peer) => _keys.TryRemove(peer, out _);

    private byte[]? SharedKey(in Key peer)
    {
        if (_keys.TryGetValue(peer, out var cached))
        {
            return cached;
        }

        Span<byte> shared = stackalloc byte[X25519.KeySize];
        byte[]? key = null;
        if (X25519.SharedSecret(_privateKey, peer, shared))
        {
            key = new byte[Blake2s.HashSize];
            Blake2s.Hash(key, Label, shared);
        }

        shared.Clear();
        if (_keys.Count >= MaxCachedKeys)
        {
            _keys.Clear();
        }

        _keys[peer] = key;
        return key;
    }
}
