namespace Trellis.Crypto.Noise;

/// <summary>
/// A handshake message could not be read: wrong length, failed authentication, or a public key that
/// gives an all-zero Diffie-Hellman result. The handshake object that threw is spent.
/// </summary>
public sealed class NoiseHandshakeException : Exception
{
    public NoiseHandshakeException()
        : base("the Noise handshake failed")
    {
    }

    public NoiseHandshakeException(string message)
        : base(message)
    {
    }

    public NoiseHandshakeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
