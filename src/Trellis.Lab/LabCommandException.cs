namespace Trellis.Lab;

/// <summary>A lab command that had to succeed did not.</summary>
public sealed class LabCommandException : Exception
{
    public LabCommandException()
    {
    }

    public LabCommandException(string message)
        : base(message)
    {
    }

    public LabCommandException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LabCommandException(CommandResult result)
        : base($"command failed: {result}")
    {
        Result = result;
    }

    public CommandResult? Result { get; }
}
