using System.Net;
using Trellis.Core.Control;

namespace Trellis.Node.Engine;

/// <summary>
/// What a map may hand this node, whoever sent it: overlay prefixes only in private address space,
/// addresses only single hosts inside them. A compromised or impersonated server can then at worst
/// misdirect overlay traffic, never capture the host's other traffic (a peer "address" of 0.0.0.0/1
/// would otherwise become a route into the tunnel).
/// </summary>
internal static class OverlayRules
{
    public static bool IsPrivateSpace(IPNetwork prefix) => OverlaySpace.Contains(prefix);

    /// <summary>A single host (/32 or /128) inside one of the overlay prefixes.</summary>
    public static bool IsOverlayHost(IPNetwork address, IReadOnlyList<IPNetwork> overlay) =>
        address.PrefixLength == (Prefixes.IsIPv6(address) ? 128 : 32) && overlay.Any(o => Prefixes.Overlap(o, address));

    /// <summary>The overlay prefix a route overlaps (contains, lies inside, or equals), if any.</summary>
    public static IPNetwork? OverlappedOverlay(IPNetwork route, IReadOnlyList<IPNetwork> overlay) =>
        overlay.Cast<IPNetwork?>().FirstOrDefault(o => Prefixes.Overlap(o!.Value, route));
}
