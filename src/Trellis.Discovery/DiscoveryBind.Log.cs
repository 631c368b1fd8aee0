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

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: through peer relay {Relay} ({LatencyMs} ms) while no direct path opens")]
    private partial void LogPeerRelayPath(string peer, string relay, double latencyMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer relay {Relay} granted nothing toward {Peer} for {Seconds} s; trying another")]
    private partial void LogPeerRelayGivenUp(string peer, string relay, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "relaying for peers {First} and {Second}: both asked")]
    private partial void LogPeerRelayPair(string first, string second);

    [LoggerMessage(Level = LogLevel.Debug, Message = "peer {Peer} asked us to relay from {Source}, not proven yet: held until a pong proves it")]
    private partial void LogPeerRelayRequestHeld(string peer, string source);

    [LoggerMessage(Level = LogLevel.Warning, Message = "discovery tick failed")]
    private partial void LogTickFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: port guessing, {Sockets} sockets opened toward {Targets}; asked the peer to probe our address")]
    private partial void LogGuessSocketsOpened(string peer, int sockets, string targets);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: port guessing, probing its public address (at most {Budget} pings, {PerSecond} a second)")]
    private partial void LogGuessSpray(string peer, int budget, int perSecond);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: port guessing met {Endpoint} on one of {Sockets} sockets; it carries the peer's packets now")]
    private partial void LogGuessMet(string peer, string endpoint, int sockets);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: port guessing gave up after {Probes} pings; the peer stays on the relay")]
    private partial void LogGuessSprayGaveUp(string peer, int probes);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Peer}: port guessing gave up, no probe met any of {Sockets} sockets; the peer stays on the relay")]
    private partial void LogGuessSocketsUnmet(string peer, int sockets);

    [LoggerMessage(Level = LogLevel.Debug, Message = "peer {Peer}: {Kind} round, pinging {Endpoints}; call-me-maybe naming {Ours}")]
    private partial void LogRound(string peer, string kind, string endpoints, string ours);

    [LoggerMessage(Level = LogLevel.Debug, Message = "peer {Peer}: ping from {Source}")]
    private partial void LogPingReceived(string peer, string source);

    [LoggerMessage(Level = LogLevel.Debug, Message = "peer {Peer}: pong from {Source} after {RttMs} ms")]
    private partial void LogPongReceived(string peer, string source, double rttMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "peer {Peer}: call-me-maybe naming {Endpoints}")]
    private partial void LogCallMeMaybeReceived(string peer, string endpoints);
}
