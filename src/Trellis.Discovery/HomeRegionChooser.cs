namespace Trellis.Discovery;

/// <summary>
/// Which relay region is home: the one whose STUN server answers fastest, judged on the best of the
/// last few rounds, never on one noisy sample. Before any round has answered, the lowest region id
/// (so relayed traffic flows from the first packet); the first answering round then picks at once.
/// After that the home moves only when another region is clearly faster (x 1.2 + 10 ms) in
/// <see cref="RoundsToMove"/> rounds in a row, when the home has not answered for
/// <see cref="UnreachableRounds"/> rounds while others did, or when its relay connection, once up,
/// stays down for <see cref="FailoverGrace"/> (one that never came up: <see cref="FirstConnectGrace"/>,
/// since a first connection to a busy relay that asks the control server about us takes seconds). A region failed away from is not chosen by latency again for
/// <see cref="FailedHoldDown"/>: a relay whose STUN answers while its TCP side is broken would
/// otherwise pull the node back and drop it again, over and over.
/// </summary>
/// <remarks>Not thread-safe: the owner serialises calls.</remarks>
public sealed class HomeRegionChooser(TimeProvider time)
{
    /// <summary>Rounds kept per region; a region's latency is the least of them.</summary>
    public const int Window = 3;

    /// <summary>Rounds in a row another region must be clearly faster before the home moves.</summary>
    public const int RoundsToMove = 3;

    /// <summary>Rounds in a row the home's STUN may go unanswered, while another region answers, before the home moves.</summary>
    public const int UnreachableRounds = 2;

    /// <summary>How long the home relay connection may be down before the node moves home: a relay restart comes back sooner.</summary>
    public static readonly TimeSpan FailoverGrace = TimeSpan.FromSeconds(3);

    /// <summary>How long a new home connection may take to come up before the node moves home: the relay client's connect timeout.</summary>
    public static readonly TimeSpan FirstConnectGrace = TimeSpan.FromSeconds(15);

    /// <summary>How long a region failed away from stays out of the latency rule.</summary>
    public static readonly TimeSpan FailedHoldDown = TimeSpan.FromMinutes(2);

    private const double MoveFactor = 1.2;
    private const double MoveSlackMs = 10;

    private readonly Dictionary<int, RegionSamples> _regions = [];
    private List<int> _order = [];
    private bool _measured;
    private int _fasterRounds;
    private int _fasterCandidate;
    private int _silentRounds;
    private long? _downSince;
    private bool _homeWasUp;

    /// <summary>The home region; 0 while the map has no regions.</summary>
    public int Home { get; private set; }

    /// <summary>Why the home last changed, for the log.</summary>
    public string Reason { get; private set; } = "";

    /// <summary>The regions of the map that have relay nodes, in map order. True when the home changed.</summary>
    public bool SetRegions(IReadOnlyList<int> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        _order = [.. regions.Distinct()];
        foreach (var gone in _regions.Keys.Where(id => !_order.Contains(id)).ToList())
        {
            _regions.Remove(gone);
        }

        foreach (var id in _order)
        {
            _regions.TryAdd(id, new RegionSamples());
        }

        if (_order.Contains(Home))
        {
            return false;
        }

        var next = Best(exclude: 0) ?? (_order.Count == 0 ? 0 : _order.Min());
        return Move(next, Home == 0 ? "first map" : "the map no longer lists the home region");
    }

    /// <summary>
    /// One round of STUN latencies in milliseconds (null: no answer); regions the round does not
    /// name count as unanswered. True when the home changed.
    /// </summary>
    public bool ReportLatencies(IReadOnlyDictionary<int, double?> latencies)
    {
        ArgumentNullException.ThrowIfNull(latencies);
        var anyAnswer = false;
        foreach (var (id, samples) in _regions)
        {
            var latency = latencies.TryGetValue(id, out var l) ? l : null;
            samples.Add(latency);
            anyAnswer |= latency is not null;
        }

        if (!anyAnswer)
        {
            // UDP blocked, or every STUN server down: nothing to judge by; the relay connection decides.
            return false;
        }

        var best = Best(exclude: 0);
        if (!_measured)
        {
            _measured = true;
            return best is { } first && Move(first, "the fastest region at the first measurement");
        }

        if (!_regions.TryGetValue(Home, out var home) || home.Latest is null)
        {
            _silentRounds++;
            if (_silentRounds >= UnreachableRounds && best is { } reachable && reachable != Home)
            {
                return Move(reachable, $"the home region's STUN did not answer {_silentRounds} rounds in a row");
            }

            return false;
        }

        _silentRounds = 0;
        if (best is not { } candidate || candidate == Home || !ClearlyFaster(_regions[candidate].Best!.Value, home.Best!.Value))
        {
            _fasterRounds = 0;
            return false;
        }

        _fasterRounds = candidate == _fasterCandidate ? _fasterRounds + 1 : 1;
        _fasterCandidate = candidate;
        return _fasterRounds >= RoundsToMove && Move(candidate, $"clearly faster in {RoundsToMove} rounds in a row");
    }

    /// <summary>Whether the home relay connection is up now. True when the home moved because it stayed down.</summary>
    public bool ReportConnection(bool homeAvailable)
    {
        if (homeAvailable)
        {
            _downSince = null;
            _homeWasUp = true;
            return false;
        }

        var now = time.GetTimestamp();
        _downSince ??= now;
        var grace = _homeWasUp ? FailoverGrace : FirstConnectGrace;
        if (time.GetElapsedTime(_downSince.Value, now) < grace)
        {
            return false;
        }

        var failed = Home;
        if (NextBest(failed) is not { } next)
        {
            return false;
        }

        _regions[failed].FailedAt = now;
        _regions[failed].Clear();
        return Move(next, _homeWasUp
            ? $"the relay connection of region {failed} was down for {grace.TotalSeconds:0} s"
            : $"region {failed}'s relay did not connect within {grace.TotalSeconds:0} s");
    }

    private bool Move(int next, string reason)
    {
        if (next == Home)
        {
            return false;
        }

        Home = next;
        Reason = reason;
        _fasterRounds = 0;
        _silentRounds = 0;
        _downSince = null;
        _homeWasUp = false;
        return true;
    }

    private static bool ClearlyFaster(double candidateMs, double homeMs) => candidateMs * MoveFactor + MoveSlackMs < homeMs;

    /// <summary>The fastest region that answered the latest round and is not held down.</summary>
    private int? Best(int exclude)
    {
        int? best = null;
        double bestMs = double.MaxValue;
        foreach (var id in _order)
        {
            var samples = _regions[id];
            if (id == exclude || samples.Latest is null || samples.Best is not { } ms || HeldDown(samples))
            {
                continue;
            }

            if (ms < bestMs)
            {
                (best, bestMs) = (id, ms);
            }
        }

        return best;
    }

    /// <summary>After a failure: the fastest other region, else one that never answered (map order), else the one failed longest ago.</summary>
    private int? NextBest(int failed)
    {
        var others = _order.Where(id => id != failed).ToList();
        if (others.Count == 0)
        {
            return null;
        }

        return Best(exclude: failed)
               ?? others.Where(id => !HeldDown(_regions[id])).Cast<int?>().FirstOrDefault()
               ?? others.OrderBy(id => _regions[id].FailedAt ?? long.MinValue).First();
    }

    private bool HeldDown(RegionSamples samples) =>
        samples.FailedAt is { } at && time.GetElapsedTime(at) < FailedHoldDown;

    /// <summary>A region's last <see cref="Window"/> rounds (null: unanswered), newest last.</summary>
    private sealed class RegionSamples
    {
        private readonly double?[] _rounds = new double?[Window];
        private int _count;

        public long? FailedAt { get; set; }

        public double? Latest => _count == 0 ? null : _rounds[(_count - 1) % Window];

        public double? Best
        {
            get
            {
                double? best = null;
                for (var i = 0; i < Math.Min(_count, Window); i++)
                {
                    if (_rounds[i] is { } ms && (best is null || ms < best))
                    {
                        best = ms;
                    }
                }

                return best;
            }
        }

        public void Add(double? latency) => _rounds[_count++ % Window] = latency;

        public void Clear()
        {
            Array.Clear(_rounds);
            _count = 0;
        }
    }
}
