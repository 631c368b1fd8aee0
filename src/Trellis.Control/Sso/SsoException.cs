namespace Trellis.Control.Sso;

/// <summary>A sign-in that cannot go on; the message is for the person at the browser and never holds a code or a token.</summary>
public sealed class SsoException : Exception
{
    public SsoException(string message)
        : base(message)
    {
    }

    public SsoException(string message, Exception inner)
        : base(message, inner)
    {
    }

    public SsoException()
    {
    }
}
