using Trellis.Core.Keys;

namespace Trellis.Discovery;

/// <summary>A packet from a relay; <paramref name="packet"/> is valid only during the call.</summary>
public delegate void RelayReceiver(Key source, ReadOnlySpan<byte> packet);

/// <summary>
/// What <see cref="DiscoveryBind"/> needs of the relays: send opaque bytes to a node key, and be
/// told of bytes that arrive. <see cref="RelayClientTransport"/> adapts a <c>RelayClient</c>.
/// </summary>
public interface IRelayTransport
{
    /// <summary>The relay region packets go through (for status); 0 when unknown.</summary>
    int RegionId { get; }

    /// <summary>True while connected (a send may succeed).</summary>
    bool IsAvailable { get; }

    /// <summary>
    /// The region a packet for <paramref name="nodeKey"/> would go through now, for status; null
    /// when no connection that would carry it is up. Opens nothing.
    /// </summary>
    int? RegionFor(Key nodeKey) => IsAvailable ? RegionId : null;

    /// <summary>Queues a packet without waiting; false (dropped) when it cannot. Never throws.</summary>
    bool TrySend(Key nodeKey, ReadOnlySpan<byte> packet);

    /// <summary>
    /// Queues one packet of a batch; what is queued goes out at <see cref="Flush"/>, once per batch.
    /// May wait briefly while the relay connection's queue is full; false (dropped) when it cannot. Never throws.
    /// </summary>
    bool TryQueue(Key nodeKey, ReadOnlySpan<byte> packet) => TrySend(nodeKey, packet);

    /// <summary>Sends what <see cref="TryQueue"/> queued.</summary>
    void Flush()
    {
    }

    /// <summary>Sets who receives; called from the transport's own thread, one packet at a time.</summary>
    void SetReceiver(RelayReceiver? receiver);

    /// <summary>A reply to a packet sent through another relay is expected here: a relay that stays silent is checked as if the packet had gone through it.</summary>
    void ExpectReply()
    {
    }
}
