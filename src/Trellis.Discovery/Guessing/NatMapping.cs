using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>How this node's NAT maps its socket toward different destinations (IPv4), as far as STUN tells.</summary>
public enum NatMapping
{
    /// <summary>No STUN answer yet.</summary>
    Unknown,

    /// <summary>One public endpoint for every destination (no NAT, or an "easy" one): peers can be told where to reach us.</summary>
    Stable,

    /// <summary>A new public port per destination (a "hard" NAT): the port a peer would meet cannot be known in advance.</summary>
    Varies,
}

/// <summary>Classifies <see cref="NatMapping"/> from the STUN answers to one socket.</summary>
public static class NatMappingClassifier
{
    /// <summary>
    /// Two or more STUN servers: the mapping varies when they saw different endpoints (netcheck's
    /// rule). With one server, a NAT that kept our local port is taken as stable and one that moved
    /// it as varying: port-preserving NATs map per endpoint rarely, and a NAT that moves ports but
    /// maps independently of the destination (most carrier NATs) still meets a guessing peer,
    /// since the ports it opens are as reachable as a hard NAT's.
    /// </summary>
    /// <param name="answers">Each IPv4 STUN server asked from the socket and the endpoint it saw.</param>
    /// <param name="localPort">The socket's own port.</param>
    public static NatMapping Classify(IReadOnlyCollection<(Endpoint Server, Endpoint Mapped)> answers, ushort localPort)
    {
        ArgumentNullException.ThrowIfNull(answers);
        if (answers.Count == 0)
        {
            return NatMapping.Unknown;
        }

        if (answers.Select(a => a.Server).Distinct().Count() >= 2)
        {
            return answers.Select(a => a.Mapped).Distinct().Count() > 1 ? NatMapping.Varies : NatMapping.Stable;
        }

        return answers.All(a => a.Mapped.Port == localPort) ? NatMapping.Stable : NatMapping.Varies;
    }
}
