namespace Trellis.WireGuard;

/// <summary>Tuning knobs of a <see cref="Device"/>; the defaults suit a small machine.</summary>
public sealed record DeviceOptions
{
    /// <summary>Crypto worker threads per direction (default: the number of cores).</summary>
    public int Workers { get; init; } = Environment.ProcessorCount;

    /// <summary>Batches in flight per direction.</summary>
    public int BatchesInFlight { get; init; } = 8;
}
