using System.Net.Security;
using Trellis.Core.Keys;
using Trellis.Core.Tls;
using Trellis.Relay.Server;

namespace Trellis.Relay.Client;

/// <summary>How the client reaches the relay.</summary>
public enum RelayTransport
{
    /// <summary>HTTP Upgrade first; a WebSocket when the answer says the Upgrade did not get through.</summary>
    Auto,
    Upgrade,
    WebSocket,
}

/// <summary>How a <see cref="RelayClient"/> connects and reconnects.</summary>
public sealed record RelayClientOptions
{
    /// <summary>The relay URL, e.g. https://relay.example.com/relay (http works: the handshake is sealed).</summary>
    public required Uri Url { get; init; }

    /// <summary>The node private key the client proves it holds; packets to its public key come here.</summary>
    public required Key PrivateKey { get; init; }

    /// <summary>The relay's public key, when known: a relay answering with another key is refused.</summary>
    public Key? ServerKey { get; init; }

    public RelayTransport Transport { get; init; } = RelayTransport.Auto;

    /// <summary>
    /// Packets queued for sending; SendAsync waits beyond it, TrySend drops. Twice the batch a node's
    /// data path hands over at once (128), so a batch fits while the writer still sends the last one.
    /// </summary>
    public int SendQueueLength { get; init; } = 256;

    /// <summary>Received packets not yet read by the application; reading from the relay pauses beyond it.</summary>
    public int ReceiveQueueLength { get; init; } = 256;

    /// <summary>The first reconnect delay; it doubles per failed attempt up to <see cref="ReconnectMaxDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>TCP, TLS, the HTTP upgrade and the relay handshake together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Nothing heard from the relay this long (it sends keepalives every minute): reconnect.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(150);

    /// <summary>Decides on the relay's TLS certificate instead of the system (tests); null: the system's validation.</summary>
    public RemoteCertificateValidationCallback? CertificateValidation { get; init; }

    /// <summary>A private CA (--ca-cert) trusted beside the system's roots for the relay's TLS certificate, or null.</summary>
    public PrivateCa? PrivateCa { get; init; }

    /// <summary>Mesh mode (relays only): the region's mesh key.</summary>
    internal string? MeshKey { get; init; }

    /// <summary>Mesh mode: ask for PeerPresent/PeerGone about every client of the relay.</summary>
    internal bool WatchConnections { get; init; }

    /// <summary>Mesh mode: a relay answering with this key is ourselves; stop instead of retrying.</summary>
    internal Key? SelfKey { get; init; }

    /// <summary>Mesh mode: judges the relay's key before the mesh key is sealed to it; a non-null answer refuses the relay, saying why.</summary>
    internal Func<Key, string?>? ServerKeyCheck { get; init; }

    /// <summary>Mesh mode drops instead of waiting when the queue is full.</summary>
    internal QueueFullMode? DropWhenFull { get; init; }
}
