using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>The outcome of one Binding Request: the address the server saw, or why there is none.</summary>
public sealed record StunQueryResult
{
    public required Endpoint Server { get; init; }

    /// <summary>This socket's address as the server saw it (after any NAT); null when the query failed.</summary>
    public Endpoint? MappedEndpoint { get; init; }

    /// <summary>From the first transmission to the answer, so a lost first request shows as a slow answer.</summary>
    public TimeSpan? RoundTripTime { get; init; }

    /// <summary>How many times the request was sent.</summary>
    public int Transmissions { get; init; }

    /// <summary>ERROR-CODE when the server answered with an error.</summary>
    public int? ErrorCode { get; init; }

    /// <summary>Why the query failed, for people; null on success.</summary>
    public string? Error { get; init; }

    public bool Succeeded => MappedEndpoint is not null;
}
