using System.Net;

namespace Trellis.Net.Netlink;

/// <summary>An address on an interface, as RTM_GETADDR reports it.</summary>
/// <param name="Scope">RT_SCOPE_*: 0 global, 253 link, 254 host.</param>
public sealed record AddressInfo(int InterfaceIndex, IPAddress Address, int PrefixLength, AddressFlags Flags, byte Scope)
{
    /// <summary>IPv6 duplicate address detection has not finished; the address cannot be used yet.</summary>
    public bool IsTentative => (Flags & AddressFlags.Tentative) != 0;

    public override string ToString() => $"{Address}/{PrefixLength}";
}
