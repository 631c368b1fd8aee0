using System.Net;

namespace Trellis.Control.Policy;

/// <summary>
/// What the access policy knows of one active node: its owner (a user name, or null when tags own
/// it), its tags ("tag:name"), its two overlay addresses and the subnet routes it serves (advertised
/// and approved).
/// </summary>
public sealed record PolicyNode(
    long Id,
    string? User,
    IReadOnlyList<string> Tags,
    IPAddress IPv4,
    IPAddress IPv6,
    IReadOnlyList<IPNetwork> Routes)
{
    public bool IsTagged => Tags.Count > 0;

    /// <summary>The policy groups ("group:eng") the owner's identity provider puts them in: members as if listed in "groups".</summary>
    public IReadOnlyList<string> Groups { get; init; } = [];
}
