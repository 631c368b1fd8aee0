namespace Trellis.Core.Transport;

/// <summary>
/// The environment switch for TUN checksum and segmentation offloads, read by the TUN device and set
/// by whoever starts a daemon without them (benchmarks comparing both, a kernel that misbehaves).
/// </summary>
public static class OffloadSwitch
{
    public const string Variable = "TRELLIS_OFFLOAD";

    /// <summary>The value that turns offloads off.</summary>
    public const string Off = "0";

    /// <summary>On unless the value is 0, false or off (any case); unset means on.</summary>
    public static bool IsOn(string? value) => value?.Trim().ToLowerInvariant() is not (Off or "false" or "off");

    public static bool FromEnvironment() => IsOn(Environment.GetEnvironmentVariable(Variable));

    /// <summary>
    /// A finer switch for the UDP socket's segmentation and merging (GSO/GRO) alone, so the TUN's
    /// offloads can be measured with and without them; <see cref="Variable"/> off turns both off.
    /// </summary>
    public const string UdpVariable = "TRELLIS_UDP_OFFLOAD";

    /// <summary>Whether the UDP offloads are on: neither variable says off.</summary>
    public static bool UdpFromEnvironment() => FromEnvironment() && IsOn(Environment.GetEnvironmentVariable(UdpVariable));
}
