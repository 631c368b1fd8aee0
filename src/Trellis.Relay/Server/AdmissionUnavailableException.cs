namespace Trellis.Relay.Server;

/// <summary>
/// The relay could not learn whether a node key may connect (its control server unreachable, untrusted
/// or refusing the relay), as opposed to a node the control server does not know. The node is told to
/// try again rather than that it is not allowed, and the relay's log carries the reason.
/// </summary>
public sealed class AdmissionUnavailableException : Exception
{
    public AdmissionUnavailableException()
    {
    }

    public AdmissionUnavailableException(string message)
        : base(message)
    {
    }

    public AdmissionUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
