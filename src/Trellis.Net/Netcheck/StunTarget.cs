using System.Net;
using System.Net.Sockets;
using Trellis.Core.Control;
using Trellis.Core.Transport;

namespace Trellis.Net.Netcheck;

/// <summary>One STUN address to probe: a relay node's IPv4 or IPv6 address and its STUN port.</summary>
internal sealed record StunTarget(RelayRegion Region, RelayNode Node, Endpoint Endpoint)
{
    /// <summary>
    /// The targets of a relay map, in map order: each node's IPv4 and IPv6 when given, else its host
    /// (an address, or a name resolved here, first address of each family). Nodes with no STUN port,
    /// or whose name does not resolve within the time given, have none.
    /// </summary>
    public static async Task<IReadOnlyList<StunTarget>> ResolveAsync(
        RelayMap map,
        TimeSpan timeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var nodes = map.Regions.SelectMany(r => r.Nodes.Select(n => (Region: r, Node: n)))
            .Where(x => x.Node.StunPort is > 0 and <= ushort.MaxValue)
            .ToList();
        var addresses = await Task.WhenAll(nodes.Select(x => AddressesAsync(x.Node, timeout, time, cancellationToken))).ConfigureAwait(false);
        var targets = new List<StunTarget>();
        for (var i = 0; i < nodes.Count; i++)
        {
            foreach (var address in addresses[i])
            {
                var endpoint = Endpoint.FromIPEndPoint(new IPEndPoint(address, nodes[i].Node.StunPort));
                targets.Add(new StunTarget(nodes[i].Region, nodes[i].Node, endpoint));
            }
        }

        return targets;
    }

    private static async Task<IPAddress[]> AddressesAsync(RelayNode node, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        var v4 = Parse(node.IPv4, AddressFamily.InterNetwork);
        var v6 = Parse(node.IPv6, AddressFamily.InterNetworkV6);
        if (v4 is not null || v6 is not null)
        {
            return [.. new[] { v4, v6 }.OfType<IPAddress>()];
        }

        if (IPAddress.TryParse(node.Host, out var literal))
        {
            return [literal.IsIPv4MappedToIPv6 ? literal.MapToIPv4() : literal];
        }

        try
        {
            var resolved = await Dns.GetHostAddressesAsync(node.Host, cancellationToken).WaitAsync(timeout, time, cancellationToken).ConfigureAwait(false);
            return [.. new[]
            {
                resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork),
                resolved.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6),
            }.OfType<IPAddress>()];
        }
        catch (Exception e) when (e is SocketException or TimeoutException or ArgumentException)
        {
            return [];
        }
    }

    private static IPAddress? Parse(string? text, AddressFamily family) =>
        IPAddress.TryParse(text, out var address) && address.AddressFamily == family ? address : null;
}
