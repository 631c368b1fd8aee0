namespace Trellis.Node.Engine;

/// <summary>
/// A byte total that never goes down although peers come and go: a WireGuard peer's counters vanish
/// with the peer (or restart at zero when it is re-keyed), and a Prometheus counter that falls reads as
/// a restart. Each scrape folds the last-seen bytes of peers no longer there (or whose count fell) into
/// a base; the bytes a peer moved between the last scrape and its removal are the only ones lost.
/// </summary>
internal sealed class PeerByteTotal
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, long> _lastSeen = [];
    private readonly HashSet<long> _present = [];
    private long _base;

    public long Total(IReadOnlyList<PeerStatus> peers, Func<PeerStatus, long> bytes)
    {
        lock (_lock)
        {
            _present.Clear();
            var current = 0L;
            foreach (var peer in peers)
            {
                var now = bytes(peer);
                if (_lastSeen.TryGetValue(peer.Id, out var last) && now < last)
                {
                    _base += last; // the same node with a new device peer, counting from zero again
                }

                _lastSeen[peer.Id] = now;
                _present.Add(peer.Id);
                current += now;
            }

            foreach (var (id, last) in _lastSeen.Where(p => !_present.Contains(p.Key)).ToList())
            {
                _base += last;
                _lastSeen.Remove(id);
            }

            return _base + current;
        }
    }
}
