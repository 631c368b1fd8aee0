using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Trellis.Net.Netlink;

/// <summary>
/// A routing policy rule of the kinds policy routing around a tunnel needs (as wg-quick installs):
/// "not fwmark M lookup T" (<see cref="NotFwmark"/>), "lookup T suppress_prefixlength N"
/// (<see cref="SuppressPrefixLength"/>) or "iif DEV lookup T" (<see cref="IncomingInterface"/>: only
/// packets forwarded in from that interface), at a fixed priority so that it can be deleted exactly.
/// </summary>
public readonly record struct RoutingRule(AddressFamily Family, uint Priority, uint Table, uint? NotFwmark = null, int? SuppressPrefixLength = null, string? IncomingInterface = null)
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

        if (IncomingInterface is { } incoming)
        {
            text.Append(CultureInfo.InvariantCulture, $"iif {incoming} ");
        }

        text.Append(CultureInfo.InvariantCulture, $"lookup {Table}");
        if (SuppressPrefixLength is { } length)
        {
            text.Append(CultureInfo.InvariantCulture, $" suppress_prefixlength {length}");
        }

        return text.ToString();
    }
}
