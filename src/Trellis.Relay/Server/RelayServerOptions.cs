using System.Buffers;
using System.Net;
using Trellis.Core.Keys;
using Trellis.Core.Tls;

namespace Trellis.Relay.Server;

/// <summary>How a <see cref="RelayServer"/> runs. The host persists <see cref="PrivateKey"/>.</summary>
public sealed record RelayServerOptions
{
    /// <summary>The relay's X25519 private key; clients may pin its public key.</summary>
    public required Key PrivateKey { get; init; }

    public required IRelayAdmission Admission { get; init; }

    /// <summary>The region's shared secret; clients presenting it are mesh peers. Null: no meshing.</summary>
    public string? MeshKey { get; init; }

    /// <summary>
    /// The region's other relays (their relay URLs), to which this one connects as a mesh client. A
    /// URL may end in <c>#KEY</c>, the peer's relay key (base64 or hex), given out of band; a peer
    /// without one is trusted on first use (<see cref="MeshPeerKeyFile"/>). Either way a peer
    /// presenting another key is refused before it is sent the mesh key.
    /// </summary>
    public IReadOnlyList<Uri> MeshPeers { get; init; } = [];

    /// <summary>
    /// Where the relay keys of mesh peers without a <c>#KEY</c> are kept once first seen (a line
    /// "URL KEY" each); null: remembered until the process exits.
    /// </summary>
    public string? MeshPeerKeyFile { get; init; }

    /// <summary>A private CA (--ca-cert) trusted beside the system's roots for mesh peers' TLS certificates, or null.</summary>
    public PrivateCa? PrivateCa { get; init; }

    /// <summary>
    /// Reverse proxies whose X-Forwarded-For names the client (the rightmost address not itself a
    /// trusted proxy). Empty (the default): the header is ignored and the socket's peer is the client.
    /// </summary>
    public IReadOnlyList<IPNetwork> TrustedProxies { get; init; } = [];

    /// <summary>
    /// Packets queued per client before the policy drops one. A tunnel hands the relay whole bursts
    /// (one 64 KB TCP segment is 45 packets; a node sends up to 128 at once), and a relay sharing its
    /// cores may not write for a few milliseconds: at 32, a quarter of an iperf3 flow's packets were
    /// dropped here. An idle client's queue holds a small ring all the same: it grows only when needed.
    /// </summary>
    public int SendQueueLength { get; init; } = 256;

    /// <summary>
    /// Packet bytes queued per client at most, beside <see cref="SendQueueLength"/>: 2 MiB, what 32
    /// frames of the largest size came to before the queue was deeper, so a slow reader of large frames
    /// can make the relay hold no more than it could then.
    /// </summary>
    public int SendQueueBytes { get; init; } = 2 * 1024 * 1024;

    public QueueFullMode QueueFullMode { get; init; } = QueueFullMode.DropOldest;

    /// <summary>Frames queued towards one mesh peer (it carries a whole relay's traffic).</summary>
    public int MeshSendQueueLength { get; init; } = 1024;

    /// <summary>What each client may send, in bytes per second; 0: unlimited. Mesh peers are exempt.</summary>
    public long RateLimitBytesPerSecond { get; init; }

    /// <summary>Bytes a client may send at once above the rate; 0: one second's worth (at least one largest frame).</summary>
    public long RateLimitBurstBytes { get; init; }

    public int MaxConnections { get; init; } = 50_000;

    public int MaxConnectionsPerAddress { get; init; } = 1_000;

    /// <summary>From the upgrade to the client's verified ClientInfo (and its admission).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>A KeepAlive goes to a client after this long without anything written to it.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>A client whose one write stalls this long (it stopped reading) is disconnected.</summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The Restarting frame sent at shutdown: reconnect after this...</summary>
    public TimeSpan RestartReconnectIn { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>...and keep trying this long before backing off.</summary>
    public TimeSpan RestartTryFor { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often keepalives and stalled writers are checked.</summary>
    public TimeSpan HousekeepingInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Where connections rent frame payload buffers: the relay's frame pool, or a test's counting wrapper around it.</summary>
    internal ArrayPool<byte> FramePool { get; init; } = Transport.FramePool.Instance;

    internal long EffectiveBurst => RateLimitBytesPerSecond <= 0 ? 0
        : RateLimitBurstBytes > 0 ? RateLimitBurstBytes
        : Math.Max(RateLimitBytesPerSecond, Protocol.RelayProtocol.HeaderSize + Protocol.RelayProtocol.MaxFrameLength);
}
