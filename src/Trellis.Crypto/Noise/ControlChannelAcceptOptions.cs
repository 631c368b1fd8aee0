using Trellis.Core.Control;

namespace Trellis.Crypto.Noise;

/// <summary>What the server side of a <see cref="NoiseControlChannel"/> puts up with from a node.</summary>
public sealed record ControlChannelAcceptOptions
{
    /// <summary>The default handshake deadline: a node sends its 96-byte first message right after the upgrade.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Largest control message from the node; a longer length prefix closes the channel before the body is read.</summary>
    public int MaxMessage { get; init; } = MessageFramer.MaxNodeMessage;

    /// <summary>The node's first handshake message must arrive within this after the WebSocket opened.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = DefaultHandshakeTimeout;

    /// <summary>The clock of <see cref="HandshakeTimeout"/> (tests use a fake one).</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;
}
