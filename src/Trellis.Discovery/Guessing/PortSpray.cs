using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// The easy side's half of port guessing, for one peer: pings to random ports of the peer's public
/// IPv4 addresses, at most <see cref="Budget"/> in all, paced to <see cref="PerSecond"/>, until
/// <see cref="GiveUpAfter"/>. Guarded by its peer's Sync.
/// </summary>
internal sealed class PortSpray
{
    /// <summary>Probes per attempt: against the 256 ports the other side opens, 1000 random ports meet one with a probability of 98%.</summary>
    public const int Budget = 1000;

    /// <summary>
    /// Probes per second: about 450 kbit/s of 140-byte pings for at most 2.5 s. Each probe meets one of
    /// the 256 ports with a chance of 1 in 252, so half the attempts meet within 0.45 s and 95% within 1.9 s.
    /// </summary>
    public const int PerSecond = 400;

    /// <summary>The ports a NAT hands out (below them it keeps a flow's own port).</summary>
    public const int FirstPort = 1024;

    public const int LastPort = 65535;

    /// <summary>Long enough for the budget at the full rate, with room for a late timer; then the attempt ends.</summary>
    public static readonly TimeSpan GiveUpAfter = TimeSpan.FromSeconds(5);

    private readonly UInt128[] _addresses;
    private readonly long _startedAt;
    private readonly long _frequency;

    public PortSpray(IReadOnlyList<UInt128> addresses, long startedAt, long timestampFrequency)
    {
        _addresses = [.. addresses];
        _startedAt = startedAt;
        _frequency = timestampFrequency;
    }

    /// <summary>Probes sent so far.</summary>
    public int Sent { get; private set; }

    public bool Done(long now) => Sent >= Budget || now - _startedAt >= (long)(GiveUpAfter.TotalSeconds * _frequency);

    /// <summary>
    /// Adds the probes due by <paramref name="now"/> to <paramref name="plan"/>: as many as the rate
    /// allows since the start (one step's worth at once), never beyond the budget.
    /// </summary>
    public void TakeDue(long now, Random random, List<Endpoint> plan)
    {
        if (Done(now))
        {
            return;
        }

        // Whole ticks: a step of exactly a tenth of a second allows exactly a tenth of the rate.
        var due = (now - _startedAt) * PerSecond / _frequency;
        var allowed = (int)Math.Min(Budget, due + (PerSecond / DiscoveryBind.GuessStepsPerSecond));
        for (; Sent < allowed; Sent++)
        {
            var address = _addresses[Sent % _addresses.Length];
            plan.Add(new Endpoint(address, (ushort)random.Next(FirstPort, LastPort + 1)));
        }
    }
}
