namespace Trellis.Lab;

/// <summary>The Linux signal numbers the lab sends.</summary>
public enum UnixSignal
{
    Interrupt = 2,
    Kill = 9,
    Terminate = 15,
}
