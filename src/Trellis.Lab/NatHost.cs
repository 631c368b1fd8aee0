namespace Trellis.Lab;

/// <summary>A machine of a <see cref="NatLab"/>: a namespace with one interface on a segment and a default route through it.</summary>
public sealed class NatHost
{
    public const string InterfaceName = "eth0";

    internal NatHost(NetNamespace ns, LabAddress? ipv4, LabAddress? ipv6, NatRouter? router)
    {
        Namespace = ns;
        IPv4 = ipv4;
        IPv6 = ipv6;
        Router = router;
    }

    public NetNamespace Namespace { get; }

    /// <summary>The host's IPv4 address; null on an IPv6-only LAN.</summary>
    public LabAddress? IPv4 { get; }

    /// <summary>The host's IPv6 address (global: the lab's IPv6 is never translated); null on an IPv4-only LAN.</summary>
    public LabAddress? IPv6 { get; }

    /// <summary>The router the host sits behind; null for a host on the internet itself.</summary>
    public NatRouter? Router { get; }

    public override string ToString() => $"{Namespace.Name} {IPv4} {IPv6}".TrimEnd();
}
