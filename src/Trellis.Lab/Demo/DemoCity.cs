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
        new("tokyo", NatKind.IPv6Firewall, IPv6: true, "mobile network, IPv6 only"),
    ];

    /// <summary>
    /// The path two sites settle on: IPv6 (never translated, only firewalled) punches through whenever
    /// both have it; a site without IPv4 meets an IPv4-only one only through the relay (the relay
    /// speaks both); over IPv4 two hard NATs never meet, a hard NAT and an easy one meet by port
    /// guessing (seconds later than punching), and everything else punches through.
    /// </summary>
    public static string ExpectedPath(DemoCity from, DemoCity to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        if (from.IPv6 && to.IPv6)
        {
            return DemoPaths.DirectIPv6;
        }

        var oneWithoutIPv4 = from.Kind == NatKind.IPv6Firewall || to.Kind == NatKind.IPv6Firewall;
        var bothHard = from.Kind == NatKind.Hard && to.Kind == NatKind.Hard;
        return oneWithoutIPv4 || bothHard ? DemoPaths.Relay : DemoPaths.DirectIPv4;
    }
}
