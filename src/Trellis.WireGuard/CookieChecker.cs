using System.Security.Cryptography;
using System.Text;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;

namespace Trellis.WireGuard;

/// <summary>
/// The responder's side of the cookie mechanism: verifies mac1 (always) and mac2 (under load), and
/// writes cookie replies binding a cookie to the sender's address with a secret rotated every 120 s.
/// </summary>
internal sealed class CookieChecker
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    // guarded by _lock
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _encryptionKey = new byte[32];
    private readonly byte[] _secret = new byte[32];
    private long? _secretSet;

    public CookieChecker(TimeProvider time) => _time = time;

    public void Init(in Key localPublicKey)
    {
        Span<byte> pk = stackalloc byte[32];
        localPublicKey.CopyTo(pk);
        lock (_lock)
        {
            Blake2s.Hash(_mac1Key, Encoding.ASCII.GetBytes(Constants.LabelMac1), pk);
            Blake2s.Hash(_encryptionKey, Encoding.ASCII.GetBytes(Constants.LabelCookie), pk);
            _secretSet = null;
        }
    }

    public bool CheckMac1(ReadOnlySpan<byte> message)
    {
        var macAt = MessageLayout.Mac1Offset(message.Length);
        Span<byte> mac = stackalloc byte[Blake2s.MacSize];
        lock (_lock)
        {
            Blake2s.Mac(mac, _mac1Key, message[..macAt]);
        }

        return CryptographicOperations.FixedTimeEquals(mac, message.Slice(macAt, Blake2s.MacSize));
    }

    public bool CheckMac2(ReadOnlySpan<byte> message, in Endpoint source)
    {
        Span<byte> cookie = stackalloc byte[Blake2s.MacSize];
        lock (_lock)
        {
            if (_secretSet is not { } set || _time.GetElapsedTime(set) > Constants.CookieRefreshTime)
            {
                return false;
            }

            MakeCookieLocked(cookie, source);
        }

        var macAt = MessageLayout.Mac2Offset(message.Length);
        Span<byte> mac = stackalloc byte[Blake2s.MacSize];
        Blake2s.Mac(mac, cookie, message[..macAt]);
        return CryptographicOperations.FixedTimeEquals(mac, message.Slice(macAt, Blake2s.MacSize));
    }

    /// <summary>Writes a 64-byte cookie reply to <paramref name="message"/> for its sender.</summary>
    public void CreateReply(Span<byte> reply, ReadOnlySpan<byte> message, uint receiverIndex, in Endpoint source)
    {
        Span<byte> cookie = stackalloc byte[Blake2s.MacSize];
        var mac1 = message.Slice(MessageLayout.Mac1Offset(message.Length), Blake2s.MacSize);
        MessageLayout.WriteType(reply, MessageType.CookieReply);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(reply[MessageLayout.CookieReceiver..], receiverIndex);
        var nonce = reply.Slice(MessageLayout.CookieNonce, XAead.NonceSize);
        RandomNumberGenerator.Fill(nonce);
        lock (_lock)
        {
            if (_secretSet is not { } set || _time.GetElapsedTime(set) > Constants.CookieRefreshTime)
            {
                RandomNumberGenerator.Fill(_secret);
                _secretSet = _time.GetTimestamp();
            }

            MakeCookieLocked(cookie, source);
            XAead.Seal(_encryptionKey, nonce, cookie, mac1, reply.Slice(MessageLayout.CookieEncrypted, MessageLayout.CookieEncryptedSize));
        }
    }

    private void MakeCookieLocked(Span<byte> cookie, in Endpoint source)
    {
        Span<byte> addr = stackalloc byte[18];
        source.WriteAddress16(addr);
        addr[16] = (byte)source.Port;
        addr[17] = (byte)(source.Port >> 8);
        Blake2s.Mac(cookie, _secret, addr);
    }
}
