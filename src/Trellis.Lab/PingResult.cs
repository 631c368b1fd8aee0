namespace Trellis.Lab;

/// <summary>What one <c>ping</c> run of <paramref name="Count"/> pings reported, with the sequence numbers answered.</summary>
public sealed record PingResult(int Count, int Transmitted, int Received, IReadOnlySet<int> Answered, IReadOnlyList<double> RoundTripMilliseconds, CommandResult Command)
{
    public bool AnyReceived => Received > 0;

    /// <summary>Each of the run's pings (sequence 1 to <see cref="Count"/>) was answered; pings sent while waiting for a late answer do not count.</summary>
    public bool AllReceived => Count > 0 && Enumerable.Range(1, Count).All(Answered.Contains);

    public override string ToString() => $"{Received}/{Transmitted} replies; {Command}";
}
