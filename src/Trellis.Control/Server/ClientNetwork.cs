using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http;

namespace Trellis.Control.Server;

/// <summary>
/// The network a control connection is counted against: an IPv4 address, or the /64 of an IPv6
/// address (one subscriber usually holds a whole /64, so counting single addresses would not bound it).
/// </summary>
public static class ClientNetwork
{
    private const int IPv6SubscriberPrefix = 64;

    private const string ForwardedFor = "X-Forwarded-For";

    /// <summary>
    /// The client's network, or null when it is not limited per network: a connection from this host
    /// without X-Forwarded-For (the CLI, a local tool), or over a Unix socket. From this host with the
    /// header, the last entry counts: that is the address a reverse proxy on this host saw (the
    /// recommended setup); the header from anyone else is ignored, since anyone can send it.
    /// </summary>
    public static IPNetwork? For(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var remote = context.Connection.RemoteIpAddress;
        if (remote is null)
        {
            return null;
        }

        if (IPAddress.IsLoopback(remote))
        {
            return LastForwarded(context.Request.Headers[ForwardedFor].ToString()) is { } forwarded ? Of(forwarded) : null;
        }

        return Of(remote);
    }

    public static IPNetwork Of(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return new IPNetwork(address, 32);
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[(IPv6SubscriberPrefix / 8)..].Clear();
        return new IPNetwork(new IPAddress(bytes), IPv6SubscriberPrefix);
    }

    private static IPAddress? LastForwarded(string header)
    {
        var last = header.AsSpan();
        var comma = last.LastIndexOf(',');
        last = (comma >= 0 ? last[(comma + 1)..] : last).Trim();
        if (last.IsEmpty)
        {
            return null;
        }

        if (IPAddress.TryParse(last, out var address))
        {
            return address;
        }

        return IPEndPoint.TryParse(last, out var endpoint) ? endpoint.Address : null;
    }
}
