using Trellis.Core.Control;

namespace Trellis.WireGuard.Tests;

/// <summary>Packet filters for the device pair (A is 10.0.0.1 / fd00::1, B is 10.0.0.2 / fd00::2).</summary>
internal static class FilterPolicies
{
    /// <summary>What <see cref="Packets.Build"/> sends from and to when its payload is filled with <paramref name="fill"/>.</summary>
    public static int PortOf(byte fill) => (fill << 8) | fill;

    /// <summary>One rule: UDP from <paramref name="source"/> to <paramref name="destination"/> on one port.</summary>
    public static FilterRule Udp(string source, string destination, int port) => new()
    {
        Sources = [source],
        Destinations = [new FilterDestination { Prefix = destination, FirstPort = port, LastPort = port }],
        Protocols = [IpProtocols.Udp],
    };

    /// <summary>99 rules for other sources and ports (from 100.64.1.i and fd7a:1::i), then <paramref name="last"/>.</summary>
    public static PacketFilter HundredRules(FilterRule last) => new()
    {
        Rules =
        [
            .. Enumerable.Range(0, 99).Select(i => new FilterRule
            {
                Sources = [$"100.64.1.{i}/32", $"fd7a:1::{i:x}/128"],
                Destinations =
                [
                    new FilterDestination { Prefix = "10.0.0.0/24", FirstPort = 1000 + i, LastPort = 1000 + i },
                    new FilterDestination { Prefix = "fd00::/64", FirstPort = 1000 + i, LastPort = 1000 + i },
                ],
            }),
            last,
        ],
    };
}
