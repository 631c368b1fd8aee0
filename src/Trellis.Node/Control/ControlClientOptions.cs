using Trellis.Core.Keys;
using Trellis.Core.Tls;

namespace Trellis.Node.Control;

/// <summary>Who the node is and which server it talks to; the private keys stay in this process.</summary>
public sealed record ControlClientOptions
{
    /// <summary>The control server's base URL (http or https; a path prefix behind a proxy is kept).</summary>
    public required Uri Server { get; init; }

    /// <summary>
    /// Other replicas of the same server (one database, one server key): when a connection fails
    /// or ends, the client dials the next URL in turn (<see cref="Server"/> first).
    /// </summary>
    public IReadOnlyList<Uri> OtherServers { get; init; } = [];

    /// <summary>
    /// The replicas' URLs the last map named (kept in the cached map), dialed after the configured
    /// ones until a new map names its own. They are trusted no more than the configured URLs: each
    /// connection must prove the pinned server key.
    /// </summary>
    public IReadOnlyList<Uri> LearnedServers { get; init; } = [];

    /// <summary>
    /// A map held from an earlier run (the daemon's cached map): the first map stream resumes from it
    /// (one delta instead of a full map) when the server proves the key the map came with.
    /// </summary>
    public ResumableMap? Held { get; init; }

    /// <summary>The server's pinned public key; null: trust the key the server first presents, then keep it (see <see cref="ControlClient.ServerKey"/>).</summary>
    public Key? ServerKey { get; init; }

    /// <summary>A private CA trusted beside the system's roots for the server's TLS certificate (--ca-cert), or null.</summary>
    public PrivateCa? PrivateCa { get; init; }

    /// <summary>Private machine key: the Noise initiator's static key.</summary>
    public required Key MachineKey { get; init; }

    /// <summary>Private node key; only its public half is sent.</summary>
    public required Key NodeKey { get; init; }

    /// <summary>
    /// Called when the server says the node key expired: replaces it (persisted) and returns the new
    /// private key, which the client registers with. Null: an expired key ends the session.
    /// </summary>
    public Func<CancellationToken, Task<Key>>? RenewNodeKeyAsync { get; init; }

    /// <summary>Private disco key; only its public half is sent.</summary>
    public required Key DiscoKey { get; init; }

    public required string Hostname { get; init; }

    /// <summary>Sent until a registration succeeds or is pending, then forgotten (single-use keys cannot be reused).</summary>
    public string? AuthKey { get; init; }

    public IReadOnlyList<string> AdvertisedRoutes { get; init; } = [];

    /// <summary>The node's endpoints ("ip:port") as of now, asked for each time the map stream opens.</summary>
    public Func<IReadOnlyList<string>> Endpoints { get; init; } = () => [];

    /// <summary>The node's home relay region as of now (0: none), reported with the endpoints.</summary>
    public Func<int> HomeRelay { get; init; } = () => 0;

    /// <summary>Whether the node relays for its peers as of now, reported with the endpoints.</summary>
    public Func<bool> OffersPeerRelay { get; init; } = () => false;

    /// <summary>Whether STUN found the node's NAT mapping per destination, reported with the endpoints.</summary>
    public Func<bool> MappingVaries { get; init; } = () => false;

    /// <summary>How long fetching the server key, the WebSocket upgrade and the Noise handshake may take together.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>While an admin has not approved the node, how often it asks again.</summary>
    public TimeSpan PendingRecheckInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan ReconnectBaseDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(60);
}
