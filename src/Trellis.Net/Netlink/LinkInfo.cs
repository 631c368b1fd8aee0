namespace Trellis.Net.Netlink;

/// <summary>A network interface as RTM_GETLINK reports it.</summary>
/// <param name="Flags">The interface flags (IFF_*), as <c>ip link</c> shows them.</param>
/// <param name="Kind">The link kind ("tun", "dummy", "bridge", ...); null for devices without one, such as loopback or a physical NIC.</param>
public sealed record LinkInfo(int Index, string Name, int Mtu, uint Flags, string? Kind)
{
    /// <summary>Administratively up (IFF_UP).</summary>
    public bool IsUp => (Flags & Rtnl.IFF_UP) != 0;

    /// <summary>The device reports a carrier (IFF_LOWER_UP); a TUN has one while its file is open.</summary>
    public bool HasCarrier => (Flags & Rtnl.IFF_LOWER_UP) != 0;
}
