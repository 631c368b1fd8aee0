namespace Trellis.Node.Control;

/// <summary>A control exchange failed; <see cref="Kind"/> says whether retrying can help.</summary>
public sealed class ControlException : Exception
{
    public ControlException(ControlErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    public ControlException()
    {
    }

    public ControlException(string message)
        : base(message)
    {
    }

    public ControlException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ControlErrorKind Kind { get; }
}
