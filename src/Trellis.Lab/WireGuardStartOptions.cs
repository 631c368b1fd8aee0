namespace Trellis.Lab;

/// <summary>How <see cref="WireGuardInterface.StartAsync"/> starts a device.</summary>
public sealed record WireGuardStartOptions
{
    /// <summary>The hidden test-only variable that makes Trellis's protocol timers run N times faster.</summary>
    public const string ClockRateVariable = "TRELLIS_TEST_CLOCK_RATE";

    // A safety net only (see LabControlServer.StartTimeout).
    public static readonly TimeSpan DefaultStartTimeout = TimeSpan.FromSeconds(120);

    /// <summary>The interface name (at most 15 bytes); a fresh unique name when null.</summary>
    public string? Name { get; init; }

    /// <summary>Trellis only: sets <see cref="ClockRateVariable"/>. wireguard-go has no such knob and ignores it.</summary>
    public int? ClockRate { get; init; }

    /// <summary>Trellis only: false starts it with TUN offloads off (<see cref="Trellis.Core.Transport.OffloadSwitch"/>).</summary>
    public bool Offload { get; init; } = true;

    /// <summary>Extra environment for the daemon (e.g. LOG_LEVEL=verbose for wireguard-go).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>How long to wait for <c>wg show IFNAME</c> to answer (the .NET runtime's start included).</summary>
    public TimeSpan StartTimeout { get; init; } = DefaultStartTimeout;
}
