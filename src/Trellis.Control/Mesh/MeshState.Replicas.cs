namespace Trellis.Control.Mesh;

// The running replicas' public URLs, which every map carries so a node can move to another replica.
public sealed partial class MeshState
{
    // Guarded by _views: written under its write side, as a session connects under it, so a node
    // gets the old list in its full map and the new one as a delta, or the new one in its full map.
    private IReadOnlyList<string>? _replicaUrls;

    /// <summary>The list the maps carry now; null before a replica's first read of the roster (and always on a single server).</summary>
    public IReadOnlyList<string>? ReplicaUrls
    {
        get
        {
            _views.EnterReadLock();
            try
            {
                return _replicaUrls;
            }
            finally
            {
                _views.ExitReadLock();
            }
        }
    }

    /// <summary>Puts <paramref name="urls"/> in every map from now on and sends it to every connected node, unless it is the list they have.</summary>
    public void SetReplicaUrls(IReadOnlyList<string> urls)
    {
        ArgumentNullException.ThrowIfNull(urls);
        _views.EnterWriteLock();
        try
        {
            if (_replicaUrls is { } current ? current.SequenceEqual(urls, StringComparer.Ordinal) : urls.Count == 0)
            {
                return;
            }

            _replicaUrls = urls;
            foreach (var (_, session) in _sessions)
            {
                session.Update(d => d.ReplicasChanged(urls));
            }
        }
        finally
        {
            _views.ExitWriteLock();
        }
    }
}
