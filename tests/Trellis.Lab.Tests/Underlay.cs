namespace Trellis.Lab.Tests;

/// <summary>The address family of the veth between the two namespaces (what WireGuard's UDP runs over).</summary>
public enum Underlay
{
    IPv4,
    IPv6,
}
