namespace Trellis.Core.Transport;

/// <summary>
/// How a node notices a relay that keeps its TCP connection up but no longer forwards (a stopped or
/// wedged process, a path that black-holes mid-stream): TCP alone would call it connected for many
/// minutes, and the relay's keepalive for two and a half. When packets were sent over a relay
/// connection and nothing at all came back on it for <see cref="PingAfter"/>, the node sends one relay
/// Ping; no frame within <see cref="PongTimeout"/> of it and the connection is dropped, so the node
/// reconnects, or moves home when that stays down. At most one Ping per connection per
/// <see cref="PingAfter"/>, and only while traffic goes unanswered.
/// </summary>
public static class RelayLiveness
{
    /// <summary>How long sent packets may go unanswered on a relay connection before it is pinged.</summary>
    public static readonly TimeSpan PingAfter = TimeSpan.FromSeconds(1.5);

    /// <summary>How long the relay has to answer that Ping (or send anything) before the connection is dropped: generous, as a busy relay is not a dead one.</summary>
    public static readonly TimeSpan PongTimeout = TimeSpan.FromSeconds(3);
}
