using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Trellis.Node.Engine;

/// <summary>
/// An address on an interface with its prefix length ("100.64.0.5/32"). Unlike <see cref="IPNetwork"/>
/// it keeps the host bits, which are the point of an interface address.
/// </summary>
public readonly record struct InterfaceAddress(IPAddress Address, int PrefixLength)
{
    /// <summary>The network the address belongs to (host bits cleared).</summary>
    public IPNetwork Network => Prefixes.Network(Address, PrefixLength);

    /// <summary>Parses "a.b.c.d/n", "x::y/n", or a bare address (a host prefix: /32 or /128).</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out InterfaceAddress? result)
    {
        result = null;
        if (!Prefixes.TrySplit(text, out var address, out var length))
        {
            return false;
        }

        result = new InterfaceAddress(address, length);
        return true;
    }

    public override string ToString() => $"{Address}/{PrefixLength}";
}
