using Trellis.Core.Keys;

namespace Trellis.Crypto.Noise;

/// <summary>
/// The initiator of Noise_IK_25519_ChaChaPoly_BLAKE2s: it knows the responder's static key beforehand,
/// sends its own encrypted in the first message, and holds a <see cref="NoiseTransport"/> after reading
/// the second. Single use: after the second message, or any failure, the object is spent and its
/// secrets are erased. Not thread-safe.
/// </summary>
public sealed class NoiseIKInitiator : IDisposable
{
    private readonly HandshakeState _handshake;
    private Step _step;

    public NoiseIKInitiator(Key localStaticPrivate, Key remoteStaticPublic, ReadOnlySpan<byte> prologue)
        : this(localStaticPrivate, remoteStaticPublic, prologue, ephemeralPrivate: null)
    {
    }

    /// <summary>With a chosen ephemeral key: known-answer tests only, as a reused ephemeral breaks the protocol.</summary>
    internal NoiseIKInitiator(Key localStaticPrivate, Key remoteStaticPublic, ReadOnlySpan<byte> prologue, Key? ephemeralPrivate)
    {
        _handshake = new HandshakeState(localStaticPrivate, remoteStaticPublic, ephemeralPrivate, prologue);
    }

    private enum Step
    {
        WriteFirst,
        ReadSecond,
        Done,
    }

    public Key LocalStaticPublic => _handshake.LocalStaticPublic;

    /// <summary>
    /// -> e, es, s, ss: returns the first message (96 bytes + payload). Throws
    /// <see cref="NoiseHandshakeException"/> if the responder's static key is a low-order point.
    /// </summary>
    public byte[] WriteFirstMessage(ReadOnlySpan<byte> payload)
    {
        Expect(Step.WriteFirst);
        if (payload.Length > NoiseConstants.MaxFirstPayloadLength)
        {
            throw new ArgumentException($"the first message carries at most {NoiseConstants.MaxFirstPayloadLength} payload bytes, got {payload.Length}", nameof(payload));
        }

        try
        {
            var message = new byte[NoiseConstants.FirstMessageOverhead + payload.Length];
            var written = _handshake.WriteEphemeral(message);
            _handshake.MixDh(localStatic: false, remoteStatic: true); // es
            written += _handshake.WriteStatic(message.AsSpan(written));
            _handshake.MixDh(localStatic: true, remoteStatic: true); // ss
            _handshake.WritePayload(payload, message.AsSpan(written));
            _step = Step.ReadSecond;
            return message;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// &lt;- e, ee, se: reads the responder's reply and returns the transport. Any malformed, forged or
    /// misdirected message throws <see cref="NoiseHandshakeException"/>.
    /// </summary>
    public NoiseTransport ReadSecondMessage(ReadOnlySpan<byte> message, out byte[] payload)
    {
        Expect(Step.ReadSecond);
        try
        {
            if (message.Length < NoiseConstants.SecondMessageOverhead || message.Length > NoiseConstants.MaxMessageLength)
            {
                throw new NoiseHandshakeException($"the second handshake message is {message.Length} bytes; it must be {NoiseConstants.SecondMessageOverhead} to {NoiseConstants.MaxMessageLength}");
            }

            var read = _handshake.ReadEphemeral(message);
            _handshake.MixDh(localStatic: false, remoteStatic: false); // ee
            _handshake.MixDh(localStatic: true, remoteStatic: false); // se
            payload = _handshake.ReadPayload(message[read..]);
            return _handshake.Split(initiator: true);
        }
        finally
        {
            Dispose();
        }
    }

    private void Expect(Step step)
    {
        if (_step != step)
        {
            throw new InvalidOperationException(_step == Step.Done
                ? "this Noise handshake is finished or failed; start a new one"
                : $"the Noise initiator expected {_step}, not {step}");
        }
    }

    /// <summary>Erases the handshake's secrets; the initiator cannot be used afterwards.</summary>
    public void Dispose()
    {
        _step = Step.Done;
        _handshake.Dispose();
    }
}
