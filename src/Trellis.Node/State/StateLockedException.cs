namespace Trellis.Node.State;

/// <summary>Another daemon holds the state directory's lock.</summary>
public sealed class StateLockedException : IOException
{
    public StateLockedException(string message)
        : base(message)
    {
    }

    public StateLockedException()
    {
    }

    public StateLockedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
