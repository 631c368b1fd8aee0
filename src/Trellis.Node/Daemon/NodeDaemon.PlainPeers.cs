using Trellis.Core.Control;
using Trellis.Node.Control;

namespace Trellis.Node.Daemon;

/// <summary>
/// On a gateway: every <see cref="PlainPeerPresence.ReportInterval"/> the plain peers this node serves
/// (the map's peers whose gateway it is) are looked up in the data plane, and their latest handshakes
/// go to the server when that is news, so the rest of the mesh sees them online or offline.
/// </summary>
public sealed partial class NodeDaemon
{
    private ITimer? _plainPeerTimer;

    private void WatchPlainPeers() =>
        _plainPeerTimer = _options.Time.CreateTimer(_ => ReportPlainPeers(), null, PlainPeerPresence.ReportInterval, PlainPeerPresence.ReportInterval);

    private void ReportPlainPeers()
    {
        if (_session is not { } session || session.Client.Status.State != ControlState.Running || _applied is not { } map)
        {
            return;
        }

        List<PlainPeerSighting>? sightings = null;
        Dictionary<long, DateTimeOffset?>? handshakes = null;
        foreach (var peer in map.Peers.Values)
        {
            if (peer.Gateway == map.Self.Id)
            {
                handshakes ??= (EngineStatus()?.Peers ?? []).ToDictionary(p => p.Id, p => p.LastHandshake);
                (sightings ??= []).Add(new PlainPeerSighting(peer.Id, handshakes.GetValueOrDefault(peer.Id)));
            }
        }

        _ = session.Client.ReportPlainPeersAsync(sightings ?? [], _options.Time.GetUtcNow(), CancellationToken.None);
    }
}
