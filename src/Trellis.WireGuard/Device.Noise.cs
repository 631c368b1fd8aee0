using System.Buffers.Binary;
using System.Security.Cryptography;
using Trellis.Core.Keys;
using Trellis.Crypto;
using static Trellis.WireGuard.MessageLayout;

namespace Trellis.WireGuard;

/// <summary>The Noise IKpsk2 messages: creating and consuming initiations and responses, and deriving sessions.</summary>
public sealed partial class Device
{
    private static void MixHash(Span<byte> hash, ReadOnlySpan<byte> data) => Blake2s.Hash(hash, hash, data);

    private static void MixKey(Span<byte> chainKey, ReadOnlySpan<byte> input) => Kdf.Derive(chainKey, input, chainKey);

    /// <summary>Writes an initiation to <paramref name="peer"/> (macs excluded); false without a local key.</summary>
    internal bool CreateInitiation(Peer peer, Span<byte> msg)
    {
        if (!TryGetIdentity(out var localPrivate, out var localPublic))
        {
            return false;
        }

        var hs = peer.Handshake;
        Span<byte> key = stackalloc byte[32];
        Span<byte> ss = stackalloc byte[32];
        Span<byte> peerPub = stackalloc byte[32];
        Span<byte> pub = stackalloc byte[32];
        peer.PublicKey.CopyTo(peerPub);
        lock (hs.SyncRoot)
        {
            if (!peer.StaticStaticValid)
            {
                return false;
            }

            NoiseConstants.InitialChainKey.CopyTo(hs.ChainKey);
            NoiseConstants.InitialHash.CopyTo(hs.Hash);
            MixHash(hs.Hash, peerPub);

            hs.LocalEphemeral = X25519.GeneratePrivateKey();
            var ephemeralPublic = X25519.PublicKey(hs.LocalEphemeral);
            msg.Clear();
            WriteType(msg, MessageType.Initiation);
            ephemeralPublic.CopyTo(msg.Slice(InitEphemeral, 32));
            MixKey(hs.ChainKey, msg.Slice(InitEphemeral, 32));
            MixHash(hs.Hash, msg.Slice(InitEphemeral, 32));

            if (!X25519.SharedSecret(hs.LocalEphemeral, peer.PublicKey, ss))
            {
                return false;
            }

            Kdf.Derive(hs.ChainKey, ss, hs.ChainKey, key);
            localPublic.CopyTo(pub);
            Aead.Seal(key, 0, pub, hs.Hash, msg.Slice(InitStatic, InitStaticSize));
            MixHash(hs.Hash, msg.Slice(InitStatic, InitStaticSize));

            Kdf.Derive(hs.ChainKey, peer.StaticStatic, hs.ChainKey, key);
            Span<byte> timestamp = stackalloc byte[Tai64n.Size];
            Tai64n.Write(timestamp, _time.GetUtcNow());
            Aead.Seal(key, 0, timestamp, hs.Hash, msg.Slice(InitTimestamp, InitTimestampSize));
            MixHash(hs.Hash, msg.Slice(InitTimestamp, InitTimestampSize));

            ReplaceHandshakeIndexLocked(peer);
            BinaryPrimitives.WriteUInt32LittleEndian(msg[InitSender..], hs.LocalIndex);
            hs.State = HandshakeState.InitiationCreated;
        }

        CryptographicOperations.ZeroMemory(key);
        CryptographicOperations.ZeroMemory(ss);
        _ = localPrivate;
        return true;
    }

    /// <summary>Authenticates an initiation (mac1 already checked) and returns its peer, or null.</summary>
    internal Peer? ConsumeInitiation(ReadOnlySpan<byte> msg)
    {
        if (!TryGetIdentity(out var localPrivate, out var localPublic))
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[32];
        Span<byte> chainKey = stackalloc byte[32];
        Span<byte> key = stackalloc byte[32];
        Span<byte> ss = stackalloc byte[32];
        Span<byte> peerPub = stackalloc byte[32];
        Span<byte> timestamp = stackalloc byte[Tai64n.Size];
        Span<byte> localPub = stackalloc byte[32];
        localPublic.CopyTo(localPub);

        NoiseConstants.InitialChainKey.CopyTo(chainKey);
        NoiseConstants.InitialHash.CopyTo(hash);
        MixHash(hash, localPub);

        var ephemeral = msg.Slice(InitEphemeral, 32);
        MixKey(chainKey, ephemeral);
        MixHash(hash, ephemeral);
        var remoteEphemeral = new Key(ephemeral);
        try
        {
            if (!X25519.SharedSecret(localPrivate, remoteEphemeral, ss))
            {
                return null;
            }

            Kdf.Derive(chainKey, ss, chainKey, key);
            if (!Aead.Open(key, 0, msg.Slice(InitStatic, InitStaticSize), hash, peerPub))
            {
                return null;
            }

            MixHash(hash, msg.Slice(InitStatic, InitStaticSize));

            var peer = LookupPeer(new Key(peerPub));
            if (peer is null)
            {
                return null;
            }

            var hs = peer.Handshake;
            lock (hs.SyncRoot)
            {
                if (!peer.StaticStaticValid)
                {
                    return null;
                }

                Kdf.Derive(chainKey, peer.StaticStatic, chainKey, key);
            }

            if (!Aead.Open(key, 0, msg.Slice(InitTimestamp, InitTimestampSize), hash, timestamp))
            {
                return null;
            }

            MixHash(hash, msg.Slice(InitTimestamp, InitTimestampSize));

            lock (hs.SyncRoot)
            {
                var replay = !Tai64n.After(timestamp, hs.LastTimestamp);
                var flood = hs.LastInitiationConsumed is { } last && _time.GetElapsedTime(last) <= Constants.HandshakeInitiationRate;
                if (replay || flood)
                {
                    Interlocked.Increment(ref Counters.HandshakeReplayed);
                    return null;
                }

                hash.CopyTo(hs.Hash);
                chainKey.CopyTo(hs.ChainKey);
                hs.RemoteIndex = BinaryPrimitives.ReadUInt32LittleEndian(msg[InitSender..]);
                hs.RemoteEphemeral = remoteEphemeral;
                timestamp.CopyTo(hs.LastTimestamp);
                hs.LastInitiationConsumed = _time.GetTimestamp();
                hs.State = HandshakeState.InitiationConsumed;
            }

            return peer;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(ss);
        }
    }

    /// <summary>Writes the response to a consumed initiation (macs excluded).</summary>
    internal bool CreateResponse(Peer peer, Span<byte> msg)
    {
        var hs = peer.Handshake;
        Span<byte> ss = stackalloc byte[32];
        Span<byte> tau = stackalloc byte[32];
        Span<byte> key = stackalloc byte[32];
        Span<byte> psk = stackalloc byte[32];
        lock (hs.SyncRoot)
        {
            if (hs.State != HandshakeState.InitiationConsumed)
            {
                return false;
            }

            ReplaceHandshakeIndexLocked(peer);
            msg.Clear();
            WriteType(msg, MessageType.Response);
            BinaryPrimitives.WriteUInt32LittleEndian(msg[RespSender..], hs.LocalIndex);
            BinaryPrimitives.WriteUInt32LittleEndian(msg[RespReceiver..], hs.RemoteIndex);

            hs.LocalEphemeral = X25519.GeneratePrivateKey();
            X25519.PublicKey(hs.LocalEphemeral).CopyTo(msg.Slice(RespEphemeral, 32));
            MixHash(hs.Hash, msg.Slice(RespEphemeral, 32));
            MixKey(hs.ChainKey, msg.Slice(RespEphemeral, 32));

            if (!X25519.SharedSecret(hs.LocalEphemeral, hs.RemoteEphemeral, ss))
            {
                return false;
            }

            MixKey(hs.ChainKey, ss);
            if (!X25519.SharedSecret(hs.LocalEphemeral, peer.PublicKey, ss))
            {
                return false;
            }

            MixKey(hs.ChainKey, ss);
            peer.PresharedKey.CopyTo(psk);
            Kdf.Derive(hs.ChainKey, psk, hs.ChainKey, tau, key);
            MixHash(hs.Hash, tau);
            Aead.Seal(key, 0, default, hs.Hash, msg.Slice(RespEmpty, TagSize));
            MixHash(hs.Hash, msg.Slice(RespEmpty, TagSize));
            hs.State = HandshakeState.ResponseCreated;
        }

        CryptographicOperations.ZeroMemory(ss);
        CryptographicOperations.ZeroMemory(tau);
        CryptographicOperations.ZeroMemory(key);
        CryptographicOperations.ZeroMemory(psk);
        return true;
    }

    /// <summary>Authenticates a response (mac1 already checked) to our pending initiation; returns its peer or null.</summary>
    internal Peer? ConsumeResponse(ReadOnlySpan<byte> msg)
    {
        var entry = _indices.Lookup(BinaryPrimitives.ReadUInt32LittleEndian(msg[RespReceiver..]));
        if (entry is null || entry.Keypair is not null || !TryGetIdentity(out var localPrivate, out _))
        {
            return null;
        }

        var peer = entry.Peer;
        var hs = peer.Handshake;
        Span<byte> hash = stackalloc byte[32];
        Span<byte> chainKey = stackalloc byte[32];
        Span<byte> ss = stackalloc byte[32];
        Span<byte> tau = stackalloc byte[32];
        Span<byte> key = stackalloc byte[32];
        Span<byte> psk = stackalloc byte[32];
        try
        {
            lock (hs.SyncRoot)
            {
                if (hs.State != HandshakeState.InitiationCreated)
                {
                    return null;
                }

                hs.Hash.CopyTo(hash);
                hs.ChainKey.CopyTo(chainKey);
                var ephemeral = msg.Slice(RespEphemeral, 32);
                MixHash(hash, ephemeral);
                MixKey(chainKey, ephemeral);
                var remoteEphemeral = new Key(ephemeral);

                if (!X25519.SharedSecret(hs.LocalEphemeral, remoteEphemeral, ss))
                {
                    return null;
                }

                MixKey(chainKey, ss);
                if (!X25519.SharedSecret(localPrivate, remoteEphemeral, ss))
                {
                    return null;
                }

                MixKey(chainKey, ss);
                peer.PresharedKey.CopyTo(psk);
                Kdf.Derive(chainKey, psk, chainKey, tau, key);
                MixHash(hash, tau);
                if (!Aead.Open(key, 0, msg.Slice(RespEmpty, TagSize), hash, default))
                {
                    return null;
                }

                MixHash(hash, msg.Slice(RespEmpty, TagSize));
                hash.CopyTo(hs.Hash);
                chainKey.CopyTo(hs.ChainKey);
                hs.RemoteIndex = BinaryPrimitives.ReadUInt32LittleEndian(msg[RespSender..]);
                hs.State = HandshakeState.ResponseConsumed;
            }

            return peer;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(hash);
            CryptographicOperations.ZeroMemory(chainKey);
            CryptographicOperations.ZeroMemory(ss);
            CryptographicOperations.ZeroMemory(tau);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(psk);
        }
    }

    /// <summary>Derives the transport keys from a finished handshake and installs them in the peer's slots.</summary>
    internal Keypair? BeginSymmetricSession(Peer peer)
    {
        var hs = peer.Handshake;
        Span<byte> send = stackalloc byte[32];
        Span<byte> receive = stackalloc byte[32];
        Keypair keypair;
        lock (hs.SyncRoot)
        {
            bool isInitiator;
            if (hs.State == HandshakeState.ResponseConsumed)
            {
                Kdf.Derive(hs.ChainKey, default, send, receive);
                isInitiator = true;
            }
            else if (hs.State == HandshakeState.ResponseCreated)
            {
                Kdf.Derive(hs.ChainKey, default, receive, send);
                isInitiator = false;
            }
            else
            {
                return null;
            }

            keypair = new Keypair(peer, send, receive, isInitiator, hs.LocalIndex, hs.RemoteIndex, _time.GetTimestamp());
            _indices.SwapToKeypair(hs.LocalIndex, keypair);
            hs.LocalIndex = 0; // the index now belongs to the keypair
            hs.ClearLocked();
        }

        CryptographicOperations.ZeroMemory(send);
        CryptographicOperations.ZeroMemory(receive);
        peer.InstallKeypair(keypair);
        return keypair;
    }

    private void ReplaceHandshakeIndexLocked(Peer peer)
    {
        var hs = peer.Handshake;
        if (hs.LocalIndex != 0)
        {
            _indices.Delete(hs.LocalIndex);
        }

        hs.LocalIndex = _indices.NewIndexForHandshake(peer);
    }
}
