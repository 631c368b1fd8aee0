namespace Trellis.Crypto.Noise;

/// <summary>The sizes of Noise_IK_25519_ChaChaPoly_BLAKE2s, named as in the Noise specification (revision 34).</summary>
public static class NoiseConstants
{
    public const string ProtocolName = "Noise_IK_25519_ChaChaPoly_BLAKE2s";

    /// <summary>Every Noise message, handshake or transport, is at most 65535 bytes (spec section 3).</summary>
    public const int MaxMessageLength = 65535;

    public const int DhLen = 32;
    public const int HashLen = 32;
    public const int TagLen = 16;

    /// <summary>-> e, es, s, ss: the ephemeral in clear, the encrypted static, then the payload's tag.</summary>
    public const int FirstMessageOverhead = DhLen + DhLen + TagLen + TagLen;

    /// <summary>&lt;- e, ee, se: the ephemeral in clear, then the payload's tag.</summary>
    public const int SecondMessageOverhead = DhLen + TagLen;

    public const int MaxFirstPayloadLength = MaxMessageLength - FirstMessageOverhead;
    public const int MaxSecondPayloadLength = MaxMessageLength - SecondMessageOverhead;
    public const int MaxTransportPlaintextLength = MaxMessageLength - TagLen;
}
