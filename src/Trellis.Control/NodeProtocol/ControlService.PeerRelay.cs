using System.Collections.Concurrent;
using Trellis.Core.Control;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// Which nodes relay for their peers (<see cref="PeerInfo.PeerRelay"/>): what each node's open map
/// stream last said, live only, like being online. It is not stored: a node says it again with every
/// map request and endpoint report, and a node that goes offline stops offering at once.
/// </summary>
public sealed partial class ControlService
{
    private readonly ConcurrentDictionary<long, bool> _peerRelays = new();

    private void NotePeerRelay(long nodeId, bool offers)
    {
        if (offers)
        {
            _peerRelays[nodeId] = true;
        }
        else
        {
            _peerRelays.TryRemove(nodeId, out _);
        }
    }

    /// <summary>The node's entry as the store has it, with whether it relays for peers now.</summary>
    private PeerInfo WithLive(PeerInfo info) => info with { PeerRelay = info.Online && _peerRelays.ContainsKey(info.Id) };
}
