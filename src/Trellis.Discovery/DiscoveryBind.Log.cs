using Microsoft.Extensions.Logging;

namespace Trellis.Discovery;

public sealed partial class DiscoveryBind
{
    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: direct path {Endpoint} ({LatencyMs} ms)")]
    private partial void LogPathChanged(string peer, string endpoint, double latencyMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "peer {Peer} claims the disco key {DiscoKey}, which another peer or this node has too: it is reached over the relay only. Nodes share a disco key when one's state directory was copied from the other: delete disco.key on the copy and restart its daemon, or remove the node that should not be there")]
    private partial void LogDiscoKeyShared(string peer, string discoKey);

    [LoggerMessage(Level = LogLevel.Debug, Message = "discovery message dropped: {Reason}")]
    private partial void LogDiscoDropped(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "discovery tick failed")]
    private partial void LogTickFailed(Exception exception);
}
