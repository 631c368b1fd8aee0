namespace Trellis.Core.Transport;

/// <summary>
/// One of this host's own addresses on the underlay (IPv4 held as IPv4-mapped IPv6, as in
/// <see cref="Endpoint"/>): the destination a datagram arrived on, and so the source its replies
/// should leave from, as the kernel's WireGuard keeps a peer's "sticky" source. The default value
/// means unknown: the kernel chooses the source by its routes.
/// </summary>
public readonly record struct LocalAddress(UInt128 Address)
{
    public bool IsKnown => Address != 0;

    public override string ToString() => IsKnown ? new Endpoint(Address, 1).ToIPAddress().ToString() : "(kernel's choice)";
}
