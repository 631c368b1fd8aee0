using System.Net;

namespace Trellis.Lab.Tests;

/// <summary>One end of a <see cref="TunnelLab"/>: a namespace, its veth end and its WireGuard device.</summary>
public sealed class TunnelEnd
{
    internal TunnelEnd(
        Side side,
        NetNamespace ns,
        VethEnd underlay,
        WireGuardInterface device,
        WireGuardKeyPair keys,
        int listenPort,
        LabAddress innerIPv4,
        LabAddress innerIPv6)
    {
        Side = side;
        Namespace = ns;
        Underlay = underlay;
        Device = device;
        Keys = keys;
        ListenPort = listenPort;
        InnerIPv4 = innerIPv4;
        InnerIPv6 = innerIPv6;
    }

    public Side Side { get; }

    public NetNamespace Namespace { get; }

    public VethEnd Underlay { get; }

    public WireGuardInterface Device { get; }

    public WireGuardKeyPair Keys { get; }

    public int ListenPort { get; }

    public LabAddress InnerIPv4 { get; }

    public LabAddress InnerIPv6 { get; }

    public IPAddress Inner(bool ipv6) => ipv6 ? InnerIPv6.Address : InnerIPv4.Address;

    /// <summary>The allowed-ips the other side gives this one: its inner addresses as host routes.</summary>
    public IReadOnlyList<string> AllowedIps => [InnerIPv4.HostPrefix, InnerIPv6.HostPrefix];

    /// <summary>This side's UDP endpoint on the given underlay, as `wg show endpoints` prints it.</summary>
    public string Endpoint(Underlay underlay) =>
        (underlay == Tests.Underlay.IPv6 ? Underlay.IPv6 : Underlay.IPv4).Endpoint(ListenPort);

    public override string ToString() => $"{Side} ({Device.Implementation})";
}
