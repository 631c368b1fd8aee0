using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// The one stable endpoint WireGuard sees for each peer: [fd7a:7472:6c6c:d15c::I]:1 where I (the low
/// 32 bits) is the peer's index in the bind. The /64 sits in a ULA range no underlay uses, so a send
/// to it is recognised by its prefix; the port is 1, not 0, so it survives text forms (UAPI, wg)
/// where port 0 means "no endpoint".
/// </summary>
public static class SyntheticEndpoint
{
    public const ushort Port = 1;

    /// <summary>fd7a:7472:6c6c:d15c::/64 ("trl", disc).</summary>
    public static readonly UInt128 Prefix = new(0xfd7a_7472_6c6c_d15c, 0);

    private static readonly UInt128 PrefixMask = new(ulong.MaxValue, 0);

    public static Endpoint For(int index) => new(Prefix | (uint)index, Port);

    public static bool IsSynthetic(in Endpoint endpoint) => (endpoint.Address & PrefixMask) == Prefix;

    /// <summary>The peer index a synthetic endpoint names; false for any other endpoint.</summary>
    public static bool TryGetIndex(in Endpoint endpoint, out int index)
    {
        var low = (ulong)endpoint.Address;
        if (IsSynthetic(endpoint) && endpoint.Port == Port && low <= int.MaxValue)
        {
            index = (int)low;
            return true;
        }

        index = 0;
        return false;
    }
}
