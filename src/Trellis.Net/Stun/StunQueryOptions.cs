namespace Trellis.Net.Stun;

/// <summary>
/// Retransmission of one Binding Request (RFC 8489 §6.2.1): sent at 0, RTO, 3·RTO, 7·RTO…, doubling
/// the wait each time, at most <see cref="MaxTransmissions"/> times, giving up after <see cref="Timeout"/>
/// in all. The defaults are the RFC's (500 ms, 7, 39.5 s); netcheck asks for far less.
/// </summary>
public sealed record StunQueryOptions
{
    public static StunQueryOptions Default { get; } = new();

    public TimeSpan InitialRto { get; init; } = TimeSpan.FromMilliseconds(500);

    public int MaxTransmissions { get; init; } = 7;

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(39_500);

    internal void Validate()
    {
        if (InitialRto <= TimeSpan.Zero || MaxTransmissions < 1 || Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("a STUN query needs a positive RTO and timeout and at least one transmission");
        }
    }
}
