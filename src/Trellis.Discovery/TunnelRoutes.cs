using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// The prefixes this node routes into its own tunnel (the overlay, accepted subnet routes): an
/// endpoint inside one is reached through WireGuard itself, so a path to it would carry each packet
/// back into the tunnel it came from. Immutable; IPv4 prefixes are held IPv4-mapped, as
/// <see cref="Endpoint"/> holds addresses.
/// </summary>
public sealed class TunnelRoutes
{
    private const int MappedPrefixBits = 96;
    private const int AddressBits = 128;
    private static readonly UInt128 V4MappedPrefix = (UInt128)0xffff << 32;

    private readonly (UInt128 Network, UInt128 Mask)[] _prefixes;

    public TunnelRoutes(IEnumerable<IPNetwork> prefixes)
    {
        ArgumentNullException.ThrowIfNull(prefixes);
        _prefixes = prefixes.Select(ToMapped).Distinct().ToArray();
    }

    public static TunnelRoutes None { get; } = new([]);

    public int Count => _prefixes.Length;

    /// <summary>Whether packets to the endpoint's address would be routed into the tunnel.</summary>
    public bool Contains(in Endpoint endpoint)
    {
        foreach (var (network, mask) in _prefixes)
        {
            if ((endpoint.Address & mask) == network)
            {
                return true;
            }
        }

        return false;
    }

    private static (UInt128, UInt128) ToMapped(IPNetwork prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        UInt128 address;
        int bits;
        if (prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            prefix.BaseAddress.TryWriteBytes(bytes, out _);
            address = V4MappedPrefix | BinaryPrimitives.ReadUInt32BigEndian(bytes);
            bits = MappedPrefixBits + prefix.PrefixLength;
        }
        else
        {
            prefix.BaseAddress.TryWriteBytes(bytes, out _);
            address = BinaryPrimitives.ReadUInt128BigEndian(bytes);
            bits = prefix.PrefixLength;
        }

        var mask = bits == 0 ? UInt128.Zero : UInt128.MaxValue << (AddressBits - bits);
        return (address & mask, mask);
    }
}
