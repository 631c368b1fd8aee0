using System.Security.Cryptography;
using System.Text;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.WireGuard;

/// <summary>
/// The initiator's side of the cookie mechanism, per peer: adds mac1 (and mac2 while a fresh cookie
/// is held) to outgoing handshake messages and consumes cookie replies.
/// </summary>
internal sealed class CookieGenerator
{
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();

    // guarded by _lock
    private readonly byte[] _mac1Key = new byte[32];
    private readonly byte[] _encryptionKey = new byte[32];
    private readonly byte[] _cookie = new byte[Blake2s.MacSize];
    private readonly byte[] _lastMac1 = new byte[Blake2s.MacSize];
    private long? _cookieSet;
    private bool _hasLastMac1;

    public CookieGenerator(TimeProvider time, in Key peerPublicKey)
    {
        _time = time;
        Span<byte> pk = stackalloc byte[32];
        peerPublicKey.CopyTo(pk);
        Blake2s.Hash(_mac1Key, Encoding.ASCII.GetBytes(Constants.LabelMac1), pk);
        Blake2s.Hash(_encryptionKey, Encoding.ASCII.GetBytes(Constants.LabelCookie), pk);
    }

    /// <summary>Fills mac1 and mac2 of a complete initiation or response.</summary>
    public void AddMacs(Span<byte> message)
    {
        var mac1At = MessageLayout.Mac1Offset(message.Length);
        var mac2At = MessageLayout.Mac2Offset(message.Length);
        lock (_lock)
        {
            Blake2s.Mac(message.Slice(mac1At, Blake2s.MacSize), _mac1Key, message[..mac1At]);
            message.Slice(mac1At, Blake2s.MacSize).CopyTo(_lastMac1);
            _hasLastMac1 = true;
            if (_cookieSet is { } set && _time.GetElapsedTime(set) <= Constants.CookieRefreshTime)
            {
                Blake2s.Mac(message.Slice(mac2At, Blake2s.MacSize), _cookie, message[..mac2At]);
            }
            else
            {
                message.Slice(mac2At, Blake2s.MacSize).Clear();
            }
        }
    }

    /// <summary>Accepts a cookie reply to the last message we sent; false if it does not authenticate.</summary>
    public bool ConsumeReply(ReadOnlySpan<byte> reply)
    {
        Span<byte> cookie = stackalloc byte[Blake2s.MacSize];
        lock (_lock)
        {
            if (!_hasLastMac1)
            {
                return false;
            }

            var nonce = reply.Slice(MessageLayout.CookieNonce, XAead.NonceSize);
            var sealedCookie = reply.Slice(MessageLayout.CookieEncrypted, MessageLayout.CookieEncryptedSize);
            if (!XAead.Open(_encryptionKey, nonce, sealedCookie, _lastMac1, cookie))
            {
                return false;
            }

            cookie.CopyTo(_cookie);
            _cookieSet = _time.GetTimestamp();
            _hasLastMac1 = false;
            CryptographicOperations.ZeroMemory(cookie);
            return true;
        }
    }
}
