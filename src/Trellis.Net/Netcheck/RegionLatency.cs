namespace Trellis.Net.Netcheck;

/// <summary>A relay region's best STUN round trip, in milliseconds; null where nothing answered.</summary>
public sealed record RegionLatency
{
    public required int RegionId { get; init; }

    public required string Code { get; init; }

    public double? LatencyMs { get; init; }

    public double? LatencyV4Ms { get; init; }

    public double? LatencyV6Ms { get; init; }
}
