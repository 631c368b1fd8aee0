namespace Trellis.Control.Server;

/// <summary>A configuration a person must fix; the message says what and where.</summary>
public sealed class ServerConfigurationException : Exception
{
    public ServerConfigurationException(string message)
        : base(message)
    {
    }

    public ServerConfigurationException()
    {
    }

    public ServerConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
