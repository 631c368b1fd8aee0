namespace Trellis.Lab;

/// <summary>The nftables ruleset of a <see cref="NatRouter"/>, whose interfaces are named "wan" and "lan".</summary>
internal static class NatRules
{
    /// <summary>The comment on the rule that drops unsolicited inbound traffic, so its counter can be read.</summary>
    public const string UnsolicitedComment = "unsolicited inbound";

    public const string FilterTable = "trellis-filter";

    /// <summary>
    /// Every router: nothing new from the WAN reaches the router itself (ICMP aside), and only replies
    /// and related traffic are forwarded inward. The INPUT drop matters beyond tidiness: a router that
    /// accepts a stray inbound datagram confirms a conntrack entry for it, and the LAN's own later flow
    /// to that peer then clashes with it and is moved to another port (PROTOCOLS.md §4). IPv4 kinds add
    /// masquerading, plain for endpoint-independent mapping or <c>random</c> for a port per destination.
    /// </summary>
    public static string For(NatKind kind, bool ipv4) =>
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
                iifname "wan" counter drop
            }
        }
        """ + (ipv4 ? Masquerade(kind) : "");

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
