namespace Trellis.Core.Control;

/// <summary>
/// A length prefix above the reader's cap, thrown before any of the body is buffered. An I/O error
/// (InvalidDataException is sealed): the stream cannot continue, as after a broken connection.
/// </summary>
public sealed class ControlMessageTooLargeException : IOException
{
    public ControlMessageTooLargeException(long length, int limit)
        : base($"a control message of {length} bytes is over the limit of {limit} bytes")
    {
        Length = length;
        Limit = limit;
    }

    public ControlMessageTooLargeException()
    {
    }

    public ControlMessageTooLargeException(string message)
        : base(message)
    {
    }

    public ControlMessageTooLargeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public long Length { get; }

    public int Limit { get; }
}
