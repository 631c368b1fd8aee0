using Trellis.Core.Keys;

namespace Trellis.Relay.Server;

/// <summary>
/// The control server's recent answers per node key, bounded in size. When it is full, refusals go
/// first (a stranger's random keys are all refusals, and asking again costs one query), then
/// admissions past their stale grace, then the oldest admissions, so a flood never pushes out the
/// nodes the relay is serving and never grows the cache.
/// </summary>
internal sealed class AdmissionCache(int capacity)
{
    private readonly Lock _gate = new();

    // guarded by _gate
    private readonly Dictionary<Key, AdmissionAnswer> _answers = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _answers.Count;
            }
        }
    }

    public bool TryGet(Key nodeKey, out AdmissionAnswer answer)
    {
        lock (_gate)
        {
            return _answers.TryGetValue(nodeKey, out answer);
        }
    }

    /// <param name="keepAllowedFor">How long an admission is worth keeping (the stale grace).</param>
    public void Set(Key nodeKey, AdmissionAnswer answer, TimeSpan keepAllowedFor)
    {
        lock (_gate)
        {
            if (_answers.Count >= capacity && !_answers.ContainsKey(nodeKey))
            {
                MakeRoomLocked(answer.At, keepAllowedFor);
            }

            _answers[nodeKey] = answer;
        }
    }

    private void MakeRoomLocked(DateTimeOffset now, TimeSpan keepAllowedFor)
    {
        foreach (var (key, answer) in _answers)
        {
            if (!answer.Allowed || now - answer.At >= keepAllowedFor)
            {
                _answers.Remove(key);
            }
        }

        // Only fresh admissions are left: drop the oldest tenth at once, so this sweep runs once per
        // tenth of the capacity, not once per new key.
        var target = capacity - Math.Max(1, capacity / 10);
        if (_answers.Count <= target)
        {
            return;
        }

        foreach (var (key, _) in _answers.OrderBy(a => a.Value.At).Take(_answers.Count - target).ToList())
        {
            _answers.Remove(key);
        }
    }
}

/// <summary>One answer of the control server about a node key, and when it came.</summary>
internal readonly record struct AdmissionAnswer(bool Allowed, DateTimeOffset At);
