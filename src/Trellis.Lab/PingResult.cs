namespace Trellis.Lab;

/// <summary>What one <c>ping</c> run reported.</summary>
public sealed record PingResult(int Transmitted, int Received, IReadOnlyList<double> RoundTripMilliseconds, CommandResult Command)
{
    public bool AnyReceived => Received > 0;

    public bool AllReceived => Transmitted > 0 && Received == Transmitted;

    public override string ToString() => $"{Received}/{Transmitted} replies; {Command}";
}
