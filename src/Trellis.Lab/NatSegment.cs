using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;

namespace Trellis.Lab;

/// <summary>
/// One layer-2 segment of a <see cref="NatLab"/>: a bridge inside a namespace (the internet's core, or
/// a router's LAN) holding that namespace's gateway address, with further machines attached by veth
/// pairs and numbered from .2 (or ::2) up.
/// </summary>
public sealed class NatSegment
{
    private readonly Lock _gate = new();
    private int _nextHost = 2;

    private NatSegment(NetNamespace ns, string bridgeName, LabAddress? gatewayIPv4, LabAddress? gatewayIPv6)
    {
        Namespace = ns;
        BridgeName = bridgeName;
        GatewayIPv4 = gatewayIPv4;
        GatewayIPv6 = gatewayIPv6;
    }

    /// <summary>The namespace whose bridge this is (and which routes for the machines on it).</summary>
    public NetNamespace Namespace { get; }

    public string BridgeName { get; }

    /// <summary>The namespace's own IPv4 address on the segment, with the segment's prefix length; null when the segment has no IPv4.</summary>
    public LabAddress? GatewayIPv4 { get; }

    public LabAddress? GatewayIPv6 { get; }

    public override string ToString() => $"{Namespace.Name}/{BridgeName} {GatewayIPv4} {GatewayIPv6}".TrimEnd();

    internal static async Task<NatSegment> CreateAsync(
        NetNamespace ns,
        string bridgeName,
        LabAddress? gatewayIPv4,
        LabAddress? gatewayIPv6,
        CancellationToken cancellationToken)
    {
        await ns.IpAsync(cancellationToken, "link", "add", bridgeName, "type", "bridge").ConfigureAwait(false);
        foreach (var address in new[] { gatewayIPv4, gatewayIPv6 }.OfType<LabAddress>())
        {
            await VethEnd.AddAddressAsync(ns, bridgeName, address, cancellationToken).ConfigureAwait(false);
        }

        await ns.IpAsync(cancellationToken, "link", "set", bridgeName, "up").ConfigureAwait(false);
        return new NatSegment(ns, bridgeName, gatewayIPv4, gatewayIPv6);
    }

    /// <summary>The next free host addresses of the families asked for (and that the segment has).</summary>
    internal (LabAddress? IPv4, LabAddress? IPv6) Allocate(bool ipv4, bool ipv6)
    {
        int host;
        lock (_gate)
        {
            host = _nextHost++;
        }

        var v4 = ipv4 && GatewayIPv4 is { } g4 ? Host(g4, host) : null;
        var v6 = ipv6 && GatewayIPv6 is { } g6 ? Host(g6, host) : null;
        if (v4 is null && v6 is null)
        {
            throw new InvalidOperationException($"segment {this} has none of the address families asked for");
        }

        return (v4, v6);
    }

    /// <summary>
    /// Puts <paramref name="ns"/> on the segment as interface <paramref name="interfaceName"/> with the
    /// given addresses, and points its default routes at the segment's gateway.
    /// </summary>
    internal async Task AttachAsync(
        NetNamespace ns,
        string interfaceName,
        LabAddress? ipv4,
        LabAddress? ipv6,
        CancellationToken cancellationToken)
    {
        // Created under unique names so nothing clashes while the kernel moves the ends, then renamed inside.
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        var inside = $"n{id}i";
        var port = $"n{id}p";
        (await HostCommand.RunAsync(
            "ip",
            ["link", "add", inside, "netns", ns.Name, "type", "veth", "peer", "name", port, "netns", Namespace.Name],
            CommandOptions.Default,
            cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        await Namespace.IpAsync(cancellationToken, "link", "set", port, "master", BridgeName).ConfigureAwait(false);
        await Namespace.IpAsync(cancellationToken, "link", "set", port, "up").ConfigureAwait(false);

        await ns.IpAsync(cancellationToken, "link", "set", inside, "name", interfaceName).ConfigureAwait(false);
        if (ipv4 is not null)
        {
            await VethEnd.AddAddressAsync(ns, interfaceName, ipv4, cancellationToken).ConfigureAwait(false);
        }

        if (ipv6 is not null)
        {
            await VethEnd.AddAddressAsync(ns, interfaceName, ipv6, cancellationToken).ConfigureAwait(false);
        }

        await ns.IpAsync(cancellationToken, "link", "set", interfaceName, "up").ConfigureAwait(false);
        if (ipv4 is not null && GatewayIPv4 is { } g4)
        {
            await ns.IpAsync(cancellationToken, "-4", "route", "add", "default", "via", g4.Address.ToString(), "dev", interfaceName).ConfigureAwait(false);
        }

        if (ipv6 is not null && GatewayIPv6 is { } g6)
        {
            await ns.IpAsync(cancellationToken, "-6", "route", "add", "default", "via", g6.Address.ToString(), "dev", interfaceName).ConfigureAwait(false);
        }
    }

    /// <summary>Host number <paramref name="host"/> of the network <paramref name="gateway"/> is on.</summary>
    internal static LabAddress Host(LabAddress gateway, int host)
    {
        var bytes = gateway.Address.GetAddressBytes();
        if (bytes.Length == 4)
        {
            var mask = gateway.PrefixLength == 0 ? 0u : uint.MaxValue << (32 - gateway.PrefixLength);
            var value = (BinaryPrimitives.ReadUInt32BigEndian(bytes) & mask) + (uint)host;
            BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        }
        else
        {
            var mask = gateway.PrefixLength == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - gateway.PrefixLength);
            var value = (BinaryPrimitives.ReadUInt128BigEndian(bytes) & mask) + (UInt128)host;
            BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        }

        return new LabAddress(new IPAddress(bytes), gateway.PrefixLength);
    }
}
