namespace Trellis.Core.Control;

/// <summary>
/// The mesh's DNS, as the server hands it to every node: peers are "NAME.BASE"; the node's resolver
/// answers those itself, sends split domains to their own nameservers and everything else to the
/// upstreams (else the host's original ones). Names are lowercase without a trailing dot; nameservers
/// are IP addresses, optionally "ADDRESS:PORT" or "[IPv6]:PORT".
/// </summary>
public sealed record DnsConfig
{
    public const string DefaultBaseDomain = "trellis.internal";

    public required string BaseDomain { get; init; }

    /// <summary>Searched after the base domain, in this order.</summary>
    public IReadOnlyList<string> SearchDomains { get; init; } = [];

    /// <summary>Where names outside the base and split domains go; empty: the host's original nameservers.</summary>
    public IReadOnlyList<string> Nameservers { get; init; } = [];

    /// <summary>Domain (and all below it) -> the nameservers that answer it.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> SplitDns { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>Extra names the resolver answers itself (full names, A or AAAA by the address's family).</summary>
    public IReadOnlyList<DnsExtraRecord> ExtraRecords { get; init; } = [];
}

/// <summary>One extra record: a full name and an IPv4 or IPv6 address.</summary>
public sealed record DnsExtraRecord(string Name, string Address);
