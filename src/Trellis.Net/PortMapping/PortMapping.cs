using System.Net;

namespace Trellis.Net.PortMapping;

/// <summary>
/// A UDP port mapping granted by the gateway: datagrams to <see cref="External"/> are forwarded to
/// this host's <see cref="InternalPort"/> from any source (an endpoint-independent hole). It lapses
/// after <see cref="Lifetime"/>; renew it at half the lifetime with <see cref="PortMapper.RenewAsync"/>.
/// </summary>
public sealed record PortMapping
{
    public required IPEndPoint External { get; init; }

    public required int InternalPort { get; init; }

    /// <summary>The lifetime the gateway granted (it may shorten the one asked for).</summary>
    public required TimeSpan Lifetime { get; init; }

    public required PortMappingProtocol Protocol { get; init; }

    public required IPAddress Gateway { get; init; }

    /// <summary>PCP's mapping nonce: a renewal or deletion must repeat it (RFC 6887 §11.1). Empty for NAT-PMP.</summary>
    internal ReadOnlyMemory<byte> Nonce { get; init; }

    public override string ToString() => $"{Protocol} {External} -> :{InternalPort} for {Lifetime.TotalSeconds:0} s";
}
