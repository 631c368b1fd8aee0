using System.Net;
using Microsoft.Extensions.Primitives;

namespace Trellis.Relay.Server;

/// <summary>
/// Who a connection comes from: the socket's peer, or, when that peer is a trusted reverse proxy,
/// the address its X-Forwarded-For names. The header is read from the right (each proxy appends the
/// address it saw), skipping trusted proxies, so what a client writes into it itself is never taken.
/// </summary>
internal static class ClientAddress
{
    public const string ForwardedForHeader = "X-Forwarded-For";

    /// <summary>Hops read from the right of the header; past them the last proxy examined is the client.</summary>
    private const int MaxHops = 16;

    /// <summary>Longer entries are not addresses ("[v6%scope]:port" fits easily).</summary>
    private const int MaxEntryLength = 64;

    public static IPAddress? Resolve(IPAddress? peer, StringValues forwardedFor, IReadOnlyList<IPNetwork> trustedProxies)
    {
        peer = Normalize(peer);
        if (peer is null || trustedProxies.Count == 0 || !IsTrusted(peer, trustedProxies) || StringValues.IsNullOrEmpty(forwardedFor))
        {
            return peer;
        }

        // Several header lines are one list, in order.
        var list = forwardedFor.Count == 1 ? forwardedFor[0]! : string.Join(',', forwardedFor.ToArray());
        var client = peer;
        var end = list.Length;
        for (var hop = 0; hop < MaxHops && end > 0; hop++)
        {
            var comma = list.LastIndexOf(',', end - 1);
            var entry = list.AsSpan(comma + 1, end - comma - 1).Trim();
            end = comma < 0 ? 0 : comma;
            if (!TryParseEntry(entry, out var address))
            {
                return client; // the trusted hop that wrote nonsense is as far as we can see
            }

            client = address;
            if (!IsTrusted(address, trustedProxies))
            {
                return address;
            }
        }

        return client;
    }

    private static bool TryParseEntry(ReadOnlySpan<char> entry, out IPAddress address)
    {
        address = IPAddress.None;
        if (entry.IsEmpty || entry.Length > MaxEntryLength || !IPEndPoint.TryParse(entry, out var endpoint))
        {
            return false;
        }

        address = Normalize(endpoint.Address)!;
        return true;
    }

    private static bool IsTrusted(IPAddress address, IReadOnlyList<IPNetwork> trustedProxies)
    {
        foreach (var network in trustedProxies)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    private static IPAddress? Normalize(IPAddress? address) =>
        address is { IsIPv4MappedToIPv6: true } ? address.MapToIPv4() : address;
}
