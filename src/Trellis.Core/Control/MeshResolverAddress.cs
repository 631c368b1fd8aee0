using System.Net;

namespace Trellis.Core.Control;

/// <summary>
/// Where every node's resolver listens: the same two addresses on every node of every mesh, added to
/// the node's own TUN so that queries never leave the host. IPv4 lies in 100.100.100.0/24, which the
/// server never hands to a node; IPv6 in a ULA prefix of Trellis's own (fd7a:7472:6c6c::/48, beside
/// discovery's synthetic endpoints), never a deployment's random /48.
/// </summary>
public static class MeshResolverAddress
{
    public static readonly IPAddress IPv4 = IPAddress.Parse("100.100.100.100");

    public static readonly IPAddress IPv6 = IPAddress.Parse("fd7a:7472:6c6c:53::53");

    public const int Port = 53;

    public static IReadOnlyList<IPAddress> All { get; } = [IPv4, IPv6];
}
