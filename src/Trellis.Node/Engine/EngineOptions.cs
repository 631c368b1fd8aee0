using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Keys;
using Trellis.Core.Tls;
using Trellis.Core.Transport;
using Trellis.WireGuard;

namespace Trellis.Node.Engine;

/// <summary>What a <see cref="WireGuardEngine"/> is built from: the interface, the port, the node key.</summary>
public sealed record EngineOptions
{
    public const string DefaultTunName = "trellis0";
    public const ushort DefaultListenPort = 41641;

    /// <summary>
    /// IPv6's minimum, the least an IPv6 overlay may have; with WireGuard's 80 bytes over IPv6 a full
    /// packet is 1360 bytes, which fits tunnelled and PPPoE paths where 1420 would fragment.
    /// </summary>
    public const int DefaultMtu = 1280;
    public const int MinMtu = 1280;
    public const int MaxMtu = 1420;

    public string TunName { get; init; } = DefaultTunName;

    /// <summary>The UDP port WireGuard listens on; 0 lets the system choose.</summary>
    public ushort ListenPort { get; init; } = DefaultListenPort;

    /// <summary>The node's X25519 private key (its public key is the NodeKey peers know it by).</summary>
    public required Key PrivateKey { get; init; }

    /// <summary>
    /// The node's disco private key: with it, peers are reached through discovery (proven direct paths,
    /// else the home relay); without it, at the first endpoint the map lists (a plain WireGuard mesh).
    /// </summary>
    public Key? DiscoPrivateKey { get; init; }

    public int Mtu { get; init; } = DefaultMtu;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>A private CA the relay clients trust beside the system's roots (--ca-cert), or null.</summary>
    public PrivateCa? PrivateCa { get; init; }

    /// <summary>Tuning of the WireGuard device (crypto workers, batches in flight).</summary>
    public DeviceOptions Device { get; init; } = new();

    /// <summary>Creates the TUN from a name and an MTU; null for a Linux TUN. Tests pass in-memory ones.</summary>
    public Func<string, int, ITun>? CreateTun { get; init; }

    /// <summary>Creates the packet transport; null for one dual-stack UDP socket.</summary>
    public Func<IBind>? CreateBind { get; init; }
}
