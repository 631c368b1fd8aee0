using System.Net;
using System.Net.Sockets;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>What the policy knows of a mesh entry: owner, tags, overlay addresses, served routes (public for the scale bench, which works out expectations as the server does).</summary>
public static class PolicyNodes
{
    public static PolicyNode From(PeerInfo peer)
    {
        var ipv4 = IPAddress.Any;
        var ipv6 = IPAddress.IPv6Any;
        foreach (var text in peer.Addresses)
        {
            if (IPNetwork.TryParse(text, out var address))
            {
                if (address.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
                {
                    ipv4 = address.BaseAddress;
                }
                else
                {
                    ipv6 = address.BaseAddress;
                }
            }
        }

        var routes = new List<IPNetwork>();
        foreach (var text in peer.AllowedIps)
        {
            if (!peer.Addresses.Contains(text, StringComparer.Ordinal) && IPNetwork.TryParse(text, out var route))
            {
                routes.Add(route);
            }
        }

        return new PolicyNode(peer.Id, peer.User, peer.Tags, ipv4, ipv6, routes) { Groups = peer.UserGroups };
    }

    /// <summary>Whether the change can move the node in or out of a policy's sight: owner, the owner's groups, tags, addresses or routes.</summary>
    public static bool MattersToPolicy(PeerInfo old, PeerInfo now) =>
        !string.Equals(old.User, now.User, StringComparison.Ordinal)
        || !old.Tags.SequenceEqual(now.Tags, StringComparer.Ordinal)
        || !old.UserGroups.SequenceEqual(now.UserGroups, StringComparer.Ordinal)
        || !old.Addresses.SequenceEqual(now.Addresses, StringComparer.Ordinal)
        || !old.AllowedIps.SequenceEqual(now.AllowedIps, StringComparer.Ordinal);
}
