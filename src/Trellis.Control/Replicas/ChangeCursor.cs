namespace Trellis.Control.Replicas;

/// <summary>
/// Where this replica stands in the change log. Sequence numbers are taken when a transaction
/// writes and become visible when it commits, so a reader can see 12 before 11: 11 is a hole,
/// applied when it appears. A hole that never fills (a transaction rolled back after taking its
/// number) is given up after <paramref name="holeTimeout"/>; a given-up number that commits after
/// all is still applied when its notification names it (<see cref="WasGivenUp"/>).
/// Touched only by the feed's loop.
/// </summary>
public sealed class ChangeCursor(long start, TimeProvider time, TimeSpan holeTimeout)
{
    private const int MaxGivenUpRemembered = 4096;

    // Applied numbers above the watermark (the watermark waits for a hole below them).
    private readonly HashSet<long> _appliedAbove = [];

    // Holes above the watermark, with when each was first seen missing.
    private readonly Dictionary<long, long> _holesSince = [];

    private readonly Queue<long> _givenUpOrder = new();
    private readonly HashSet<long> _givenUp = [];
    private long _highestApplied = start;

    /// <summary>Every number up to here is applied or given up; the next read asks for what lies above.</summary>
    public long Watermark { get; private set; } = start;

    public bool HasHoles => _holesSince.Count > 0;

    public long HolesGivenUp { get; private set; }

    /// <summary>The rows not applied before (rows at or under the watermark are not taken again), in order; they count as applied from now.</summary>
    public IReadOnlyList<MeshChange> Take(IReadOnlyList<MeshChange> rows)
    {
        var fresh = new List<MeshChange>(rows.Count);
        foreach (var row in rows)
        {
            if (row.Seq > Watermark ? _appliedAbove.Add(row.Seq) : _givenUp.Remove(row.Seq))
            {
                _holesSince.Remove(row.Seq);
                fresh.Add(row);
                _highestApplied = Math.Max(_highestApplied, row.Seq);
            }
        }

        Advance();
        return fresh;
    }

    /// <summary>A notified number at or under the watermark that was given up as a hole: read it on its own.</summary>
    public bool WasGivenUp(long seq) => seq <= Watermark && _givenUp.Contains(seq);

    /// <summary>Moves the watermark over what is applied and over holes older than the timeout.</summary>
    public void Advance()
    {
        var now = time.GetTimestamp();
        for (var seq = Watermark + 1; seq < _highestApplied; seq++)
        {
            if (!_appliedAbove.Contains(seq))
            {
                _holesSince.TryAdd(seq, now);
            }
        }

        while (Watermark < _highestApplied)
        {
            var next = Watermark + 1;
            if (_appliedAbove.Remove(next))
            {
                Watermark = next;
            }
            else if (_holesSince.TryGetValue(next, out var since) && time.GetElapsedTime(since) >= holeTimeout)
            {
                _holesSince.Remove(next);
                RememberGivenUp(next);
                HolesGivenUp++;
                Watermark = next;
            }
            else
            {
                break;
            }
        }
    }

    private void RememberGivenUp(long seq)
    {
        _givenUp.Add(seq);
        _givenUpOrder.Enqueue(seq);
        if (_givenUpOrder.Count > MaxGivenUpRemembered)
        {
            _givenUp.Remove(_givenUpOrder.Dequeue());
        }
    }
}
