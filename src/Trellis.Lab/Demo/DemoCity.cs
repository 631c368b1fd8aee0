namespace Trellis.Lab.Demo;

/// <summary>One device of the four-city mesh and the kind of network it sits on.</summary>
/// <param name="Name">The device's hostname in the mesh.</param>
/// <param name="Kind">The NAT in front of it; null for a public dual-stack host.</param>
/// <param name="IPv6">Whether its site has global IPv6 (a public host always does).</param>
/// <param name="Network">How the site reads in the demo's output.</param>
public sealed record DemoCity(string Name, NatKind? Kind, bool IPv6, string Network)
{
    public static IReadOnlyList<DemoCity> All { get; } =
    [
        new("singapore", NatKind.Easy, IPv6: true, "home NAT with IPv6"),
        new("amsterdam", null, IPv6: true, "public dual-stack"),
        new("london", NatKind.Cgnat, IPv6: false, "carrier NAT, IPv4 only"),
        new("tokyo", NatKind.Hard, IPv6: true, "hard NAT with IPv6"),
    ];

    /// <summary>
    /// The path two sites settle on: IPv6 (never translated, only firewalled) punches through whenever
    /// both have it; over IPv4 a hard NAT's per-destination ports defeat any other NAT, so only a public
    /// host can meet it; everything else punches through; what is left goes through the relay.
    /// </summary>
    public static string ExpectedPath(DemoCity from, DemoCity to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.IPv6 && to.IPv6)
        {
            return DemoPaths.DirectIPv6;
        }

        var hardAgainstNat = (from.Kind == NatKind.Hard && to.Kind is not null) || (to.Kind == NatKind.Hard && from.Kind is not null);
        return hardAgainstNat ? DemoPaths.Relay : DemoPaths.DirectIPv4;
    }
}
