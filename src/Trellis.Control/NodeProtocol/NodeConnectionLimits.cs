using Trellis.Core.Control;
using Trellis.Crypto.Noise;

namespace Trellis.Control.NodeProtocol;

/// <summary>What one node connection may cost the server, and its keepalive (from the server's options).</summary>
public sealed record NodeConnectionLimits
{
    /// <summary>
    /// Three missed pings of a healthy node (it pings every 25 s, see the node's ControlDialer) before
    /// its connection counts as dead.
    /// </summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(90);

    public int MaxMessage { get; init; } = MessageFramer.MaxNodeMessage;

    public TimeSpan HandshakeTimeout { get; init; } = ControlChannelAcceptOptions.DefaultHandshakeTimeout;

    /// <summary>After the handshake, a connection that receives nothing at all (not even a WebSocket ping) for this long is closed.</summary>
    public TimeSpan IdleTimeout { get; init; } = DefaultIdleTimeout;

    /// <summary>A map stream sends a keepalive after this much silence.</summary>
    public TimeSpan Keepalive { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The least time between two messages of a map stream: changes within it are merged into one delta
    /// (see <see cref="Mesh.MeshSession.NextAsync(TimeSpan, TimeSpan, CancellationToken)"/>). Small against the
    /// seconds a path takes to settle, large enough that a join storm sends each node a few deltas a second.
    /// </summary>
    public TimeSpan DeltaPace { get; init; } = TimeSpan.FromMilliseconds(200);
}
