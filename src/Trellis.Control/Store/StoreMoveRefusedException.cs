namespace Trellis.Control.Store;

/// <summary>
/// Moving the store to PostgreSQL was refused or did not verify, and nothing was written; the
/// message says why and what to do, for the operator running `trellis server migrate-to-postgres`.
/// </summary>
public sealed class StoreMoveRefusedException : Exception
{
    public StoreMoveRefusedException()
    {
    }

    public StoreMoveRefusedException(string message)
        : base(message)
    {
    }

    public StoreMoveRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
