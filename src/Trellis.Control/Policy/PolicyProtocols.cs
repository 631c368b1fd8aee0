using System.Globalization;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>The "proto" of a rule or test: an IANA name or number, as Tailscale accepts them.</summary>
internal static class PolicyProtocols
{
    private const int MaxProtocolNumber = 255;

    private static readonly Dictionary<string, IReadOnlyList<int>> Names = new(StringComparer.OrdinalIgnoreCase)
    {
        ["tcp"] = [IpProtocols.Tcp],
        ["udp"] = [IpProtocols.Udp],

        // "icmp" means ping on both families: a dual-stack mesh would otherwise answer only over IPv4.
        ["icmp"] = [IpProtocols.Icmp, IpProtocols.IcmpV6],
        ["ipv6-icmp"] = [IpProtocols.IcmpV6],
        ["icmpv6"] = [IpProtocols.IcmpV6],
        ["sctp"] = [IpProtocols.Sctp],
        ["gre"] = [IpProtocols.Gre],
        ["esp"] = [IpProtocols.Esp],
        ["ah"] = [IpProtocols.Ah],
        ["igmp"] = [IpProtocols.Igmp],
    };

    /// <summary>The protocols named; empty when none is, which the filter reads as TCP, UDP, ICMP and ICMPv6.</summary>
    public static IReadOnlyList<int> Parse(PolicyString? proto)
    {
        if (proto is not { } text)
        {
            return [];
        }

        if (Names.TryGetValue(text.Value, out var named))
        {
            return named;
        }

        if (text.Value.Length is > 0 and <= 3 && text.Value.All(char.IsAsciiDigit)
            && int.Parse(text.Value, CultureInfo.InvariantCulture) is var number && number <= MaxProtocolNumber)
        {
            return [number];
        }

        throw text.Error($"unknown proto '{text.Value}': use a name ({string.Join(", ", Names.Keys)}) or an IANA number 0-255");
    }

    /// <summary>Whether ports mean anything for these protocols (none given: TCP and UDP among them).</summary>
    public static bool HavePorts(IReadOnlyList<int> protocols) =>
        protocols.Count == 0 || protocols.Any(p => p is IpProtocols.Tcp or IpProtocols.Udp or IpProtocols.Sctp);

    /// <summary>Whether a rule's protocols let <paramref name="protocol"/> through.</summary>
    public static bool Allow(IReadOnlyList<int> protocols, int protocol) =>
        protocols.Count == 0 ? IpProtocols.Default.Contains(protocol) : protocols.Contains(protocol);
}
