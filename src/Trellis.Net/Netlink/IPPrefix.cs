using System.Net;
using System.Net.Sockets;

namespace Trellis.Net.Netlink;

/// <summary>Checks and builds address/prefix-length pairs for the two families rtnetlink speaks here.</summary>
internal static class IPPrefix
{
    public const byte AF_INET = Libc.AF_INET;
    public const byte AF_INET6 = Libc.AF_INET6;

    public static byte Family(IPAddress address, string paramName) => address.AddressFamily switch
    {
        AddressFamily.InterNetwork => AF_INET,
        AddressFamily.InterNetworkV6 => AF_INET6,
        _ => throw new ArgumentException($"{address} is neither IPv4 nor IPv6", paramName),
    };

    public static void ValidateLength(IPAddress address, int prefixLength, string paramName)
    {
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefixLength < 0 || prefixLength > max)
        {
            throw new ArgumentOutOfRangeException(paramName, prefixLength, $"a prefix length for {address} must be 0-{max}");
        }
    }
}
