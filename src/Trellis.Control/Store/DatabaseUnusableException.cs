namespace Trellis.Control.Store;

/// <summary>
/// The database cannot be opened or read at all (a corrupt or foreign file, a missing directory):
/// the message names it and says what to do, for the person starting the server.
/// </summary>
public sealed class DatabaseUnusableException : Exception
{
    public DatabaseUnusableException()
    {
    }

    public DatabaseUnusableException(string message)
        : base(message)
    {
    }

    public DatabaseUnusableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
