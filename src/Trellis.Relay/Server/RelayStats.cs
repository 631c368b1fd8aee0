namespace Trellis.Relay.Server;

/// <summary>A snapshot of a relay's counters.</summary>
public sealed record RelayStats
{
    /// <summary>Open connections, handshaking ones included.</summary>
    public int Connections { get; init; }

    /// <summary>Clients connected and admitted (mesh peers not included).</summary>
    public int Clients { get; init; }

    /// <summary>Clients that said this is their home relay.</summary>
    public int HomeClients { get; init; }

    /// <summary>Mesh peers connected to this relay.</summary>
    public int MeshPeersConnected { get; init; }

    /// <summary>Clients known to be connected at mesh peers.</summary>
    public int RemoteClients { get; init; }

    public long ClientsAccepted { get; init; }

    public long HandshakesRefused { get; init; }

    public long HandshakesFailed { get; init; }

    /// <summary>Packets queued to a local client (from a client or from a mesh peer).</summary>
    public long PacketsForwarded { get; init; }

    public long BytesForwarded { get; init; }

    /// <summary>Packets dropped because a client's send queue was full.</summary>
    public long DropsQueueFull { get; init; }

    public long DropsUnknownDestination { get; init; }

    /// <summary>Packets handed to a mesh peer for its client.</summary>
    public long MeshPacketsForwarded { get; init; }

    /// <summary>Packets dropped because a mesh peer's queue was full or its link was down.</summary>
    public long MeshDrops { get; init; }
}

/// <summary>
/// The live counters behind <see cref="RelayStats"/>: one set per connection, written only by that
/// connection's reader (no shared cache line per packet), summed when read and when it closes.
/// </summary>
internal sealed class RelayCounters
{
    public long ClientsAccepted;
    public long HandshakesRefused;
    public long HandshakesFailed;
    public long PacketsForwarded;
    public long BytesForwarded;
    public long DropsQueueFull;
    public long DropsUnknownDestination;
    public long MeshPacketsForwarded;
    public long MeshDrops;

    public void Add(RelayCounters other)
    {
        Interlocked.Add(ref ClientsAccepted, Volatile.Read(ref other.ClientsAccepted));
        Interlocked.Add(ref HandshakesRefused, Volatile.Read(ref other.HandshakesRefused));
        Interlocked.Add(ref HandshakesFailed, Volatile.Read(ref other.HandshakesFailed));
        Interlocked.Add(ref PacketsForwarded, Volatile.Read(ref other.PacketsForwarded));
        Interlocked.Add(ref BytesForwarded, Volatile.Read(ref other.BytesForwarded));
        Interlocked.Add(ref DropsQueueFull, Volatile.Read(ref other.DropsQueueFull));
        Interlocked.Add(ref DropsUnknownDestination, Volatile.Read(ref other.DropsUnknownDestination));
        Interlocked.Add(ref MeshPacketsForwarded, Volatile.Read(ref other.MeshPacketsForwarded));
        Interlocked.Add(ref MeshDrops, Volatile.Read(ref other.MeshDrops));
    }
}
