using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Lab;

/// <summary>An interface address with its prefix length, e.g. 192.168.241.1/24 or fd00::1/64.</summary>
public sealed record LabAddress(IPAddress Address, int PrefixLength)
{
    public bool IsIPv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;

    /// <summary>The same address as a host route (/32 or /128), the form used in allowed-ips.</summary>
    public string HostPrefix => string.Create(CultureInfo.InvariantCulture, $"{Address}/{(IsIPv6 ? 128 : 32)}");

    /// <summary>Parses "address/prefix-length".</summary>
    public static LabAddress Parse(string cidr)
    {
        ArgumentException.ThrowIfNullOrEmpty(cidr);
        var slash = cidr.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0
            || !IPAddress.TryParse(cidr.AsSpan(0, slash), out var address)
            || !int.TryParse(cidr.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var prefixLength)
            || prefixLength > (address.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32))
        {
            throw new FormatException($"'{cidr}' is not an address/prefix-length");
        }

        return new LabAddress(address, prefixLength);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Address}/{PrefixLength}");

    /// <summary>The address formatted for a UDP endpoint: a.b.c.d:port or [v6]:port.</summary>
    public string Endpoint(int port) => FormatEndpoint(Address, port);

    public static string FormatEndpoint(IPAddress address, int port)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{address}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{address}:{port}");
    }
}
