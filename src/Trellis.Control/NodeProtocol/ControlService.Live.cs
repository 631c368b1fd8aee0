using System.Collections.Concurrent;
using Trellis.Core.Control;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// What each node's open map stream last said about itself beyond its endpoints: whether it relays
/// for its peers (<see cref="PeerInfo.PeerRelay"/>) and whether its NAT maps per destination
/// (<see cref="PeerInfo.MappingVaries"/>). Live only, like being online: not stored, said again with
/// every map request and endpoint report, and forgotten when the node goes offline.
/// </summary>
public sealed partial class ControlService
{
    private readonly ConcurrentDictionary<long, bool> _peerRelays = new();
    private readonly ConcurrentDictionary<long, bool> _mappingVaries = new();

    private void NoteLive(long nodeId, bool offersPeerRelay, bool mappingVaries)
    {
        Note(_peerRelays, nodeId, offersPeerRelay);
        Note(_mappingVaries, nodeId, mappingVaries);
    }

    private static void Note(ConcurrentDictionary<long, bool> set, long nodeId, bool value)
    {
        if (value)
        {
            set[nodeId] = true;
        }
        else
        {
            set.TryRemove(nodeId, out _);
        }
    }

    /// <summary>The node's entry as the store has it, with what its connection says now.</summary>
    private PeerInfo WithLive(PeerInfo info) => info with
    {
        PeerRelay = info.Online && _peerRelays.ContainsKey(info.Id),
        MappingVaries = info.Online && _mappingVaries.ContainsKey(info.Id),
    };
}
