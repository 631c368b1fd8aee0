using Microsoft.Extensions.Logging;

namespace Trellis.Discovery;

public sealed partial class DiscoveryBind
{
    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: direct path {Endpoint} ({LatencyMs} ms)")]
    private partial void LogPathChanged(string peer, string endpoint, double latencyMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "discovery message dropped: {Reason}")]
    private partial void LogDiscoDropped(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "discovery tick failed")]
    private partial void LogTickFailed(Exception exception);
}
