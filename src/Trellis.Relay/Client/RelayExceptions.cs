namespace Trellis.Relay.Client;

/// <summary>The relay refused this client (in a sealed ServerInfo, so it is the relay speaking).</summary>
public sealed class RelayRefusedException : Exception
{
    public RelayRefusedException()
    {
    }

    public RelayRefusedException(string message)
        : base(message)
    {
    }

    public RelayRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The relay could not be reached or did not speak the relay protocol (HTTP status, wrong key, bad handshake).</summary>
public sealed class RelayConnectException : Exception
{
    public RelayConnectException()
    {
    }

    public RelayConnectException(string message)
        : base(message)
    {
    }

    public RelayConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The HTTP status when the relay answered without upgrading (429: too many from this address; 503: full or restarting).</summary>
    public int? HttpStatus { get; init; }
}
