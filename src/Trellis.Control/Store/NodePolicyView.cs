using System.Net;
using Trellis.Control.Policy;

namespace Trellis.Control.Store;

/// <summary>A stored node as the access policy sees it.</summary>
internal static class NodePolicyView
{
    /// <summary>Only for nodes with addresses (active, or once let in).</summary>
    public static PolicyNode ToPolicyNode(this Node node)
    {
        if (!node.HasAddresses)
        {
            throw new InvalidOperationException($"node {node.Id} has no addresses yet");
        }

        var routes = node.ServedRoutes().Select(r => IPNetwork.Parse(r)).ToList();
        var groups = node.User is { IdentityGroups.Count: > 0 } user ? user.IdentityGroups.Select(g => PolicyNames.GroupPrefix + g).ToList() : [];
        return new PolicyNode(node.Id, node.IsTagged() ? null : node.User?.Name, node.Tags, node.IPv4, node.IPv6, routes) { Groups = groups };
    }

    private static bool IsTagged(this Node node) => node.Tags.Count > 0;
}
