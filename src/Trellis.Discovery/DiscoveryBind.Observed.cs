using Trellis.Core.Transport;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>
/// Our own endpoints as peers see them (the source a pong says our ping came from), sent in every
/// call-me-maybe beside the endpoints the map lists for this node. The map's list comes back from
/// the control server and can lag or lose this node's public endpoint; a peer behind a NAT that
/// filters by address and port then never pings it, so its NAT never opens toward us and our pings
/// to it die there: both sides stay on the relay. A pong over IPv4 from any peer (a public one,
/// say) tells us the mapping the other peers will meet, and the call-me-maybe carries it to them.
/// Only pongs to our own pings count, sealed by a known peer; at most <see cref="MaxObserved"/>
/// are kept, newest first, and none inside a tunnel route.
/// </summary>
public sealed partial class DiscoveryBind
{
    internal const int MaxObserved = 4;

    // Replaced whole under _observedLock; read without it.
    private readonly object _observedLock = new();
    private volatile Endpoint[] _observed = [];

    /// <summary>Our endpoints as peers' pongs reported them, newest first.</summary>
    internal IReadOnlyList<Endpoint> ObservedEndpoints => _observed;

    private void NoteObserved(in Endpoint observed)
    {
        if (observed.Port == 0 || SyntheticEndpoint.IsSynthetic(observed) || RefusedAsTunnel(observed))
        {
            return;
        }

        lock (_observedLock)
        {
            var old = _observed;
            if (old.Length > 0 && old[0] == observed)
            {
                return;
            }

            var e = observed;
            _observed = [e, .. old.Where(o => o != e).Take(MaxObserved - 1)];
        }
    }

    /// <summary>What a call-me-maybe names: the map's endpoints for this node, then the observed ones it lacks.</summary>
    private Endpoint[] CallMeMaybeEndpoints()
    {
        var listed = _localEndpoints;
        var observed = _observed;
        if (observed.Length == 0)
        {
            return listed;
        }

        return [.. listed.Concat(observed).Distinct().Take(DiscoCodec.MaxEndpoints)];
    }
}
