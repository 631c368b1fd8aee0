namespace Trellis.Lab;

/// <summary>The machine cannot host the lab (not root, no /dev/net/tun, a tool missing).</summary>
public sealed class LabUnavailableException : Exception
{
    public LabUnavailableException()
    {
    }

    public LabUnavailableException(string message)
        : base(message)
    {
    }

    public LabUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
