using Trellis.Core.Keys;

namespace Trellis.Relay.Server;

/// <summary>
/// The node keys that sent to one destination while it was here, so they can be told when it goes.
/// Senders note themselves only when their destination changes, not per packet. Capped: a
/// destination with thousands of senders tells the first ones.
/// </summary>
internal sealed class RecentSenders
{
    private const int Cap = 4096;

    private readonly Lock _gate = new();
    private HashSet<Key>? _keys;

    public void Add(in Key key)
    {
        lock (_gate)
        {
            _keys ??= [];
            if (_keys.Count < Cap)
            {
                _keys.Add(key);
            }
        }
    }

    public Key[] TakeAll()
    {
        lock (_gate)
        {
            var keys = _keys is null ? [] : _keys.ToArray();
            _keys = null;
            return keys;
        }
    }
}
