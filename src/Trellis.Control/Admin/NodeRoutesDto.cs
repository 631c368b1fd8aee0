using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>One node's subnet routes: what it offers, what was approved, and what peers therefore use.</summary>
public sealed record NodeRoutesDto(long NodeId, string Node, IReadOnlyList<string> Advertised, IReadOnlyList<string> Approved, IReadOnlyList<string> Served)
{
    public static NodeRoutesDto From(Node node) =>
        new(node.Id, node.Name, node.AdvertisedRoutes, node.ApprovedRoutes, node.ServedRoutes());
}
