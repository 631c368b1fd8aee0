using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Relay.Server;

/// <summary>
/// What the per-address connection bound counts by: an IPv4 address, or an IPv6 /64 (one host
/// usually holds a whole /64, so counting single IPv6 addresses would bound nothing).
/// </summary>
internal readonly record struct AddressBucket(UInt128 Value, bool IsIPv6)
{
    private const int IPv6PrefixLength = 64;

    public static AddressBucket For(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            Span<byte> v4 = stackalloc byte[4];
            address.TryWriteBytes(v4, out _);
            return new AddressBucket(BinaryPrimitives.ReadUInt32BigEndian(v4), IsIPv6: false);
        }

        Span<byte> v6 = stackalloc byte[16];
        address.TryWriteBytes(v6, out _);
        var value = BinaryPrimitives.ReadUInt128BigEndian(v6);
        return new AddressBucket(value >> IPv6PrefixLength << IPv6PrefixLength, IsIPv6: true);
    }

    /// <summary>"198.51.100.7" or "2001:db8:1:2::/64", as an operator reads it in a refusal.</summary>
    public override string ToString()
    {
        if (!IsIPv6)
        {
            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)Value);
            return new IPAddress(v4).ToString();
        }

        Span<byte> v6 = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(v6, Value);
        return $"{new IPAddress(v6)}/{IPv6PrefixLength}";
    }
}
