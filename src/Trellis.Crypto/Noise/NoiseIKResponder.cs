using Trellis.Core.Keys;

namespace Trellis.Crypto.Noise;

/// <summary>
/// The responder of Noise_IK_25519_ChaChaPoly_BLAKE2s: it learns the initiator's static key from the
/// first message (and may refuse it by disposing instead of replying), then writes the second message
/// and holds a <see cref="NoiseTransport"/>. Single use: after the second message, or any failure, the
/// object is spent and its secrets are erased. Not thread-safe.
/// </summary>
public sealed class NoiseIKResponder : IDisposable
{
    private readonly HandshakeState _handshake;
    private Step _step;

    public NoiseIKResponder(Key localStaticPrivate, ReadOnlySpan<byte> prologue)
        : this(localStaticPrivate, prologue, ephemeralPrivate: null)
    {
    }

    /// <summary>With a chosen ephemeral key: known-answer tests only, as a reused ephemeral breaks the protocol.</summary>
    internal NoiseIKResponder(Key localStaticPrivate, ReadOnlySpan<byte> prologue, Key? ephemeralPrivate)
    {
        _handshake = new HandshakeState(localStaticPrivate, remoteStaticPublic: null, ephemeralPrivate, prologue);
    }

    private enum Step
    {
        ReadFirst,
        WriteSecond,
        Done,
    }

    public Key LocalStaticPublic => _handshake.LocalStaticPublic;

    /// <summary>
    /// -> e, es, s, ss: reads the initiator's message and returns its payload. Any malformed, forged or
    /// misdirected message throws <see cref="NoiseHandshakeException"/>.
    /// </summary>
    public byte[] ReadFirstMessage(ReadOnlySpan<byte> message, out Key remoteStaticPublic)
    {
        Expect(Step.ReadFirst);
        try
        {
            if (message.Length < NoiseConstants.FirstMessageOverhead || message.Length > NoiseConstants.MaxMessageLength)
            {
                throw new NoiseHandshakeException($"the first handshake message is {message.Length} bytes; it must be {NoiseConstants.FirstMessageOverhead} to {NoiseConstants.MaxMessageLength}");
            }

            var read = _handshake.ReadEphemeral(message);
            _handshake.MixDh(localStatic: true, remoteStatic: false); // es
            read += _handshake.ReadStatic(message[read..]);
            _handshake.MixDh(localStatic: true, remoteStatic: true); // ss
            var payload = _handshake.ReadPayload(message[read..]);
            remoteStaticPublic = _handshake.RemoteStatic;
            _step = Step.WriteSecond;
            return payload;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>&lt;- e, ee, se: returns the second message (48 bytes + payload) and the transport.</summary>
    public byte[] WriteSecondMessage(ReadOnlySpan<byte> payload, out NoiseTransport transport)
    {
        Expect(Step.WriteSecond);
        if (payload.Length > NoiseConstants.MaxSecondPayloadLength)
        {
            throw new ArgumentException($"the second message carries at most {NoiseConstants.MaxSecondPayloadLength} payload bytes, got {payload.Length}", nameof(payload));
        }

        try
        {
            var message = new byte[NoiseConstants.SecondMessageOverhead + payload.Length];
            var written = _handshake.WriteEphemeral(message);
            _handshake.MixDh(localStatic: false, remoteStatic: false); // ee
            _handshake.MixDh(localStatic: false, remoteStatic: true); // se
            _handshake.WritePayload(payload, message.AsSpan(written));
            transport = _handshake.Split(initiator: false);
            return message;
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
                : $"the Noise responder expected {_step}, not {step}");
        }
    }

    /// <summary>Erases the handshake's secrets; the responder cannot be used afterwards.</summary>
    public void Dispose()
    {
        _step = Step.Done;
        _handshake.Dispose();
    }
}
