using System.Net;

namespace Trellis.Control.Store;

/// <summary>Deployment choices the store applies; the server fills them from its configuration.</summary>
public sealed class ControlStoreOptions
{
    /// <summary>Where node IPv4 addresses come from.</summary>
    public IPNetwork IPv4Range { get; init; } = OverlayAddresses.DefaultIPv4Range;

    /// <summary>How long a node key is accepted after (re-)authentication; null for no expiry.</summary>
    public TimeSpan? NodeKeyLifetime { get; init; }

    /// <summary>
    /// How many nodes registered without an auth key may wait for approval at once; a registration
    /// past it is refused, so nobody can fill the name space (or the table) with unapproved machines.
    /// </summary>
    public int MaxPendingNodes { get; init; } = DefaultMaxPendingNodes;

    public const int DefaultMaxPendingNodes = 100;

    /// <summary>Rules applied at registration, approval and whenever a node's advertisement changes.</summary>
    public IReadOnlyList<AutoApprovalRule> AutoApprovers { get; init; } = [];

    /// <summary>
    /// The replica this store's server is (its <see cref="Replicas.ReplicaIdentity.Origin"/>), recorded
    /// on each node that connects to it so that its nodes can be told apart when it dies; null on SQLite.
    /// </summary>
    public string? ReplicaOrigin { get; init; }

    /// <summary>Attempts per write when a unique constraint or a serialization conflict interrupts it.</summary>
    public int MaxWriteAttempts { get; init; } = 16;

    /// <summary>
    /// On PostgreSQL, registrations and renames take a transaction-scoped advisory lock so that
    /// concurrent allocations queue instead of colliding and retrying. Tests turn it off to show
    /// that the unique constraints and retries alone keep addresses and names unique.
    /// </summary>
    internal bool SerializeAllocations { get; init; } = true;
}
