using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Trellis.Control.Store;

/// <summary>
/// Where node addresses come from. IPv4: the lowest free address of a CGNAT range (100.64.0.0/10
/// by default), never one ending in .0 or .255 (some stacks treat those as network or broadcast),
/// never in 100.100.100.0/24 (kept for in-network services). IPv6: the deployment's ULA /48 with
/// the node's IPv4 in the low 32 bits, so IPv6 is unique whenever IPv4 is.
/// </summary>
public static class OverlayAddresses
{
    public static readonly IPNetwork DefaultIPv4Range = IPNetwork.Parse("100.64.0.0/10");

    public static readonly IPNetwork ReservedServiceRange = IPNetwork.Parse("100.100.100.0/24");

    private const uint ReservedServiceNetwork = 0x64646400;

    /// <summary>A new RFC 4193 prefix: fd00::/8 with a random 40-bit global ID, as a /48.</summary>
    public static IPNetwork GenerateUlaPrefix()
    {
        Span<byte> bytes = stackalloc byte[16];
        bytes[0] = 0xfd;
        RandomNumberGenerator.Fill(bytes[1..6]);
        return new IPNetwork(new IPAddress(bytes), 48);
    }

    public static bool IsUlaPrefix(IPNetwork prefix) =>
        prefix.BaseAddress.AddressFamily == AddressFamily.InterNetworkV6 && prefix.PrefixLength == 48
        && prefix.BaseAddress.GetAddressBytes()[0] == 0xfd;

    /// <summary>Whether the range can serve as the IPv4 overlay: IPv4, and room for at least a few nodes.</summary>
    public static bool IsUsableIPv4Range(IPNetwork range) =>
        range.BaseAddress.AddressFamily == AddressFamily.InterNetwork && range.PrefixLength <= 30;

    /// <summary>The lowest assignable address of the range not in use; null when the range is full.</summary>
    public static IPAddress? LowestFreeIPv4(IPNetwork range, IEnumerable<IPAddress> used)
    {
        var taken = new HashSet<uint>();
        foreach (var address in used)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                taken.Add(ToUInt32(address));
            }
        }

        var first = ToUInt32(range.BaseAddress);
        var last = first + (uint)((1UL << (32 - range.PrefixLength)) - 1);
        for (var candidate = first; candidate <= last && candidate >= first; candidate++)
        {
            if (IsAssignable(candidate, first, last) && !taken.Contains(candidate))
            {
                return FromUInt32(candidate);
            }
        }

        return null;
    }

    /// <summary>The node's IPv6: the ULA /48, subnet 0, and the IPv4 address as the last 32 bits.</summary>
    public static IPAddress IPv6For(IPNetwork ula, IPAddress ipv4)
    {
        Span<byte> bytes = stackalloc byte[16];
        ula.BaseAddress.TryWriteBytes(bytes, out _);
        bytes[6..].Clear();
        ipv4.TryWriteBytes(bytes[12..], out _);
        return new IPAddress(bytes);
    }

    private static bool IsAssignable(uint address, uint first, uint last)
    {
        var lastOctet = address & 0xff;
        return address != first && address != last && lastOctet != 0 && lastOctet != 255
            && (address & 0xffffff00) != ReservedServiceNetwork;
    }

    private static uint ToUInt32(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    private static IPAddress FromUInt32(uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return new IPAddress(bytes);
    }
}
