using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Trellis.Net.Netlink;

/// <summary>
/// A routing policy rule of the kinds policy routing around a tunnel needs (as wg-quick installs):
/// "not fwmark M lookup T" (<see cref="NotFwmark"/>) or "lookup T suppress_prefixlength N"
/// (<see cref="SuppressPrefixLength"/>), at a fixed priority so that it can be deleted exactly.
/// </summary>
public readonly record struct RoutingRule(AddressFamily Family, uint Priority, uint Table, uint? NotFwmark = null, int? SuppressPrefixLength = null)
{
    /// <summary>The rule in <c>ip rule</c>'s words.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Family == AddressFamily.InterNetworkV6 ? "-6 " : "-4 ");
        text.Append(CultureInfo.InvariantCulture, $"priority {Priority} ");
        if (NotFwmark is { } mark)
        {
            text.Append(CultureInfo.InvariantCulture, $"not fwmark 0x{mark:x} ");
        }

        text.Append(CultureInfo.InvariantCulture, $"lookup {Table}");
        if (SuppressPrefixLength is { } length)
        {
            text.Append(CultureInfo.InvariantCulture, $" suppress_prefixlength {length}");
        }

        return text.ToString();
    }
}
