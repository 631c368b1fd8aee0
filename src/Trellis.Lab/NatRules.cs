namespace Trellis.Lab;

/// <summary>The nftables ruleset of a <see cref="NatRouter"/>, whose interfaces are named "wan" and "lan".</summary>
internal static class NatRules
{
    /// <summary>The comment on the rule that drops unsolicited inbound traffic, so its counter can be read.</summary>
    public const string UnsolicitedComment = "unsolicited inbound";

    public const string FilterTable = "trellis-filter";

    /// <summary>miniupnpd's chains (named in its config): forward accepts in the filter table, DNAT in a table of its own family (inet).</summary>
    public const string UpnpForwardChain = "miniupnpd";

    public const string UpnpNatTable = "trellis-upnp-nat";

    public const string UpnpPreroutingChain = "prerouting_miniupnpd";

    public const string UpnpPostroutingChain = "postrouting_miniupnpd";

    /// <summary>
    /// Every router: nothing new from the WAN reaches the router itself (ICMP aside), and only replies
    /// and related traffic are forwarded inward. The INPUT drop matters beyond tidiness: a router that
    /// accepts a stray inbound datagram confirms a conntrack entry for it, and the LAN's own later flow
    /// to that peer then clashes with it and is moved to another port (PROTOCOLS.md §4). IPv4 kinds add
    /// masquerading, plain for endpoint-independent mapping or <c>random</c> for a port per destination.
    /// With <paramref name="portMapping"/>, inbound traffic miniupnpd forwarded (its DNAT and accept
    /// rules, in the chains it fills) passes the forward drop.
    /// </summary>
    public static string For(NatKind kind, bool ipv4, bool portMapping = false) =>
        $$"""
        table inet {{FilterTable}} {
            chain input {
                type filter hook input priority filter; policy accept;
                iifname "wan" meta l4proto { icmp, ipv6-icmp } accept
                iifname "wan" ct state new counter drop comment "{{UnsolicitedComment}}"
            }
            chain forward {
                type filter hook forward priority filter; policy accept;
                iifname "wan" ct state established,related accept
        {{(portMapping ? $"        iifname \"wan\" jump {UpnpForwardChain}\n" : "")}}        iifname "wan" counter drop
            }
        {{(portMapping ? $"    chain {UpnpForwardChain} {{\n    }}\n" : "")}}}
        """ + (ipv4 ? Masquerade(kind) : "") + (portMapping ? UpnpNat : "");

    /// <summary>
    /// The DNAT hooks miniupnpd's rules hang from. miniupnpd 2.3 writes to the inet family, so its NAT
    /// chains cannot live in the ip-family masquerade table; NAT base chains of both tables coexist.
    /// </summary>
    private const string UpnpNat =
        $$"""

        table inet {{UpnpNatTable}} {
            chain prerouting {
                type nat hook prerouting priority dstnat; policy accept;
                jump {{UpnpPreroutingChain}}
            }
            chain postrouting {
                type nat hook postrouting priority srcnat - 1; policy accept;
                jump {{UpnpPostroutingChain}}
            }
            chain {{UpnpPreroutingChain}} {
            }
            chain {{UpnpPostroutingChain}} {
            }
        }
        """;

    private static string Masquerade(NatKind kind) =>
        $$"""

        table ip trellis-nat {
            chain postrouting {
                type nat hook postrouting priority srcnat; policy accept;
                oifname "wan" {{(kind == NatKind.Hard ? "masquerade random" : "masquerade")}}
            }
        }
        """;
}
