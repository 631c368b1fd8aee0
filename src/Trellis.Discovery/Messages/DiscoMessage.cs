using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery.Messages;

public enum DiscoMessageType : byte
{
    Ping = 1,
    Pong = 2,
    CallMeMaybe = 3,
    PortGuess = 4,

    /// <summary>To a peer relay: "carry my packets to this node" (see PeerRelay/).</summary>
    PeerRelayRequest = 5,

    /// <summary>From a peer relay: "your packets for this node go under this handle".</summary>
    PeerRelayGrant = 6,
}

/// <summary>The two steps of port guessing (see DiscoveryBind.Guess): one byte after the type.</summary>
public enum PortGuessStep : byte
{
    /// <summary>From a node whose NAT keeps one mapping for every destination: "if yours varies, open ports toward me".</summary>
    Offer = 1,

    /// <summary>From a node whose NAT maps per destination: "my ports toward you are open, spray my address now".</summary>
    Go = 2,
}

/// <summary>
/// One decoded discovery message. Ping: <see cref="TxId"/> and the sender's <see cref="NodeKey"/>;
/// Pong: <see cref="TxId"/> and the <see cref="Observed"/> source the ping came from;
/// CallMeMaybe: the sender's candidate <see cref="Endpoints"/>; PortGuess: its <see cref="GuessStep"/>;
/// PeerRelayRequest: the <see cref="NodeKey"/> to reach; PeerRelayGrant: that <see cref="NodeKey"/> and the leg's <see cref="Handle"/>.
/// </summary>
public readonly struct DiscoMessage
{
    private DiscoMessage(DiscoMessageType type, DiscoTxId txId, Key nodeKey, Endpoint observed, Endpoint[]? endpoints, PortGuessStep step = default, int handle = 0)
    {
        Handle = handle;
        GuessStep = step;
        Type = type;
        TxId = txId;
        NodeKey = nodeKey;
        Observed = observed;
        Endpoints = endpoints ?? [];
    }

    public DiscoMessageType Type { get; }

    public DiscoTxId TxId { get; }

    public Key NodeKey { get; }

    public Endpoint Observed { get; }

    public IReadOnlyList<Endpoint> Endpoints { get; }

    public PortGuessStep GuessStep { get; }

    public int Handle { get; }

    public static DiscoMessage Ping(DiscoTxId txId, Key nodeKey) => new(DiscoMessageType.Ping, txId, nodeKey, default, null);

    public static DiscoMessage Pong(DiscoTxId txId, Endpoint observed) => new(DiscoMessageType.Pong, txId, default, observed, null);

    public static DiscoMessage CallMeMaybe(IEnumerable<Endpoint> endpoints) =>
        new(DiscoMessageType.CallMeMaybe, default, default, default, endpoints.Take(DiscoCodec.MaxEndpoints).ToArray());

    public static DiscoMessage PortGuess(PortGuessStep step) => new(DiscoMessageType.PortGuess, default, default, default, null, step);

    public static DiscoMessage PeerRelayRequest(Key target) => new(DiscoMessageType.PeerRelayRequest, default, target, default, null);

    public static DiscoMessage PeerRelayGrant(Key peer, int handle) => new(DiscoMessageType.PeerRelayGrant, default, peer, default, null, handle: handle);
}
