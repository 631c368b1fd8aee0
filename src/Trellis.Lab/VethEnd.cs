using System.Net.Sockets;

namespace Trellis.Lab;

/// <summary>One end of a <see cref="VethLink"/>: an interface inside a namespace, with its addresses.</summary>
public sealed class VethEnd
{
    internal VethEnd(NetNamespace ns, string interfaceName, LabAddress ipv4, LabAddress ipv6)
    {
        Namespace = ns;
        InterfaceName = interfaceName;
        IPv4 = ipv4;
        IPv6 = ipv6;
    }

    public NetNamespace Namespace { get; }

    public string InterfaceName { get; }

    /// <summary>The IPv4 address currently configured by the lab.</summary>
    public LabAddress IPv4 { get; private set; }

    /// <summary>The IPv6 address currently configured by the lab.</summary>
    public LabAddress IPv6 { get; private set; }

    public LabAddress AddressOf(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? IPv6 : IPv4;

    /// <summary>Adds an address (IPv6 without duplicate address detection).</summary>
    public Task AddAddressAsync(LabAddress address, CancellationToken cancellationToken = default) =>
        AddAddressAsync(Namespace, InterfaceName, address, cancellationToken);

    public Task DeleteAddressAsync(LabAddress address, CancellationToken cancellationToken = default) =>
        Namespace.IpAsync(cancellationToken, "addr", "del", address.ToString(), "dev", InterfaceName);

    /// <summary>Replaces the lab's address of the same family with <paramref name="address"/> (a roaming peer).</summary>
    public async Task ChangeAddressAsync(LabAddress address, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(address);
        var old = AddressOf(address.Address.AddressFamily);
        await DeleteAddressAsync(old, cancellationToken).ConfigureAwait(false);
        await AddAddressAsync(address, cancellationToken).ConfigureAwait(false);
        if (address.IsIPv6)
        {
            IPv6 = address;
        }
        else
        {
            IPv4 = address;
        }
    }

    public override string ToString() => $"{Namespace.Name}/{InterfaceName} {IPv4} {IPv6}";

    internal static Task AddAddressAsync(NetNamespace ns, string interfaceName, LabAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.IsIPv6
            ? ns.IpAsync(cancellationToken, "addr", "add", address.ToString(), "dev", interfaceName, "nodad")
            : ns.IpAsync(cancellationToken, "addr", "add", address.ToString(), "dev", interfaceName);
    }
}
