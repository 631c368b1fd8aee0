namespace Trellis.Control.Policy;

/// <summary>
/// A policy refused: bad syntax, an unknown reference or a failing test. Line and column (1-based,
/// 0 when the error has no single place) point into the policy text; the previous policy stays.
/// </summary>
public sealed class PolicyException : Exception
{
    public PolicyException(string message, int line = 0, int column = 0)
        : base(line > 0 ? $"line {line}, column {column}: {message}" : message)
    {
        Line = line;
        Column = column;
    }

    public PolicyException()
    {
    }

    public PolicyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public int Line { get; }

    public int Column { get; }
}
