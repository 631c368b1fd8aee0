namespace Trellis.Core.Control;

/// <summary>IANA IP protocol numbers the policy and the packet filter name, shared by server and node.</summary>
public static class IpProtocols
{
    public const int Icmp = 1;
    public const int Igmp = 2;
    public const int Tcp = 6;
    public const int Udp = 17;
    public const int Gre = 47;
    public const int Esp = 50;
    public const int Ah = 51;
    public const int IcmpV6 = 58;
    public const int Sctp = 132;

    public const int MaxPort = 65535;

    /// <summary>What a rule without "proto" allows, as in Tailscale's policy format.</summary>
    public static IReadOnlyList<int> Default { get; } = [Tcp, Udp, Icmp, IcmpV6];
}
