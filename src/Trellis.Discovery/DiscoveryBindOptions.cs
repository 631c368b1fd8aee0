using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>A packet that is STUN, handed on (e.g. to the netcheck client sharing the socket).</summary>
public delegate void StunPacketHandler(ReadOnlySpan<byte> packet, Endpoint source);

public sealed record DiscoveryBindOptions
{
    /// <summary>This node's WireGuard public key (sent in pings so peers can check who they reach).</summary>
    public required Key NodePublicKey { get; init; }

    /// <summary>This node's disco private key.</summary>
    public required Key DiscoPrivateKey { get; init; }

    /// <summary>
    /// Where the bind sends itself a wake-up datagram when a relayed packet arrives while Receive
    /// waits on the socket: this address and the bound port. Only for an inner bind that is no
    /// <see cref="IWakeableBind"/> (a real socket is woken through an eventfd, which no firewall
    /// drops); tests on the in-memory network pass the bind's own address.
    /// </summary>
    public UInt128 WakeAddress { get; init; } = ((UInt128)0xffff << 32) | 0x7f000001;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Port guessing between an easy and a hard NAT (DiscoveryBind.Guess); changeable later through <see cref="DiscoveryBind.PortGuessing"/>.</summary>
    public bool PortGuessing { get; init; } = true;

    /// <summary>Where the hard side's extra sockets come from; null: this node never opens any (it may still spray).</summary>
    public IGuessSocketFactory? GuessSockets { get; init; }

    /// <summary>Whether this node relays for its peers (DiscoveryBind.PeerRelay); changeable later through <see cref="DiscoveryBind.ServesPeerRelay"/>.</summary>
    public bool ServesPeerRelay { get; init; }

    public ILogger? Logger { get; init; }
}
