using System.Net;
using System.Text;
using Trellis.Control.Store;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.PlainPeers;

/// <summary>
/// A plain WireGuard peer's wg-quick configuration: its overlay addresses, the mesh resolver, and
/// one [Peer], its gateway, for the whole overlay. The phone apps read the same text (and its QR code).
/// </summary>
public static class WireGuardConfigText
{
    /// <summary>A stock client behind a NAT keeps its mapping open with this; the apps suggest 25 too.</summary>
    public const int PersistentKeepaliveSeconds = 25;

    /// <param name="subnetRoutes">The approved subnet routes the device may reach as of now; the text is static, so a change needs it fetched again.</param>
    /// <param name="privateKey">Only right after the server generated the key pair: it is printed once and never stored.</param>
    public static string Build(Node peer, Node gateway, string gatewayEndpoint, IReadOnlyList<string> overlayPrefixes, IReadOnlyList<string> subnetRoutes, DnsConfig? dns, Key? privateKey)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(gateway);
        ArgumentNullException.ThrowIfNull(overlayPrefixes);
        ArgumentNullException.ThrowIfNull(subnetRoutes);
        var text = new StringBuilder();
        text.Append("# ").Append(peer.Name).Append(": a plain WireGuard peer of the Trellis mesh, through the gateway ").Append(gateway.Name).Append('\n');
        text.Append("[Interface]\n");
        if (privateKey is { } key)
        {
            text.Append("PrivateKey = ").Append(key.ToBase64()).Append('\n');
        }
        else
        {
            text.Append("# PrivateKey = the device's own (its public key is ").Append(peer.NodeKey.ToBase64()).Append("; the server never had the private one)\n");
        }

        text.Append("Address = ").Append(peer.IPv4).Append("/32, ").Append(peer.IPv6).Append("/128\n");
        var allowed = overlayPrefixes.ToList();
        if (dns is not null)
        {
            // Only the IPv4 resolver address: the IPv6 one lies outside the deployment's ULA, so it
            // would take a route of its own, and one resolver is all a device needs.
            text.Append("DNS = ").Append(MeshResolverAddress.IPv4).Append(", ").Append(dns.BaseDomain).Append('\n');
            if (!Covered(MeshResolverAddress.IPv4, overlayPrefixes))
            {
                allowed.Add($"{MeshResolverAddress.IPv4}/32");
            }
        }

        allowed.AddRange(subnetRoutes);
        text.Append('\n');
        text.Append("[Peer]\n");
        text.Append("# AllowedIPs: the mesh").Append(subnetRoutes.Count == 0 ? "" : " and the subnet routes this device may reach")
            .Append(" as of now; after routes change, fetch this again (trellis nodes wireguard-config ").Append(peer.Name).Append(")\n");
        text.Append("PublicKey = ").Append(gateway.NodeKey.ToBase64()).Append('\n');
        text.Append("Endpoint = ").Append(gatewayEndpoint).Append('\n');
        text.Append("AllowedIPs = ").Append(string.Join(", ", allowed)).Append('\n');
        text.Append("PersistentKeepalive = ").Append(PersistentKeepaliveSeconds).Append('\n');
        return text.ToString();
    }

    private static bool Covered(IPAddress address, IReadOnlyList<string> prefixes) =>
        prefixes.Any(p => IPNetwork.TryParse(p, out var network) && network.Contains(address));
}
