using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>The value of MAPPED-ADDRESS and XOR-MAPPED-ADDRESS: 0, family (1 IPv4, 2 IPv6), port, address.</summary>
internal static class StunAddress
{
    public const byte FamilyIPv4 = 1;
    public const byte FamilyIPv6 = 2;
    public const int IPv4Length = 8;
    public const int IPv6Length = 20;

    public static int LengthOf(in Endpoint endpoint) => endpoint.IsIPv4 ? IPv4Length : IPv6Length;

    /// <summary>
    /// XOR-MAPPED-ADDRESS hides the address from middleboxes that rewrite anything looking like one:
    /// the port is XORed with the cookie's top half, the address with the cookie (and, for IPv6, the
    /// transaction id after it).
    /// </summary>
    public static void Write(Span<byte> value, in Endpoint endpoint, bool xor, StunTransactionId transactionId)
    {
        value[0] = 0;
        var port = endpoint.Port;
        if (xor)
        {
            port ^= (ushort)(StunPacket.MagicCookie >> 16);
        }

        BinaryPrimitives.WriteUInt16BigEndian(value[2..], port);
        if (endpoint.IsIPv4)
        {
            value[1] = FamilyIPv4;
            endpoint.WriteAddress4(value.Slice(4, 4));
        }
        else
        {
            value[1] = FamilyIPv6;
            endpoint.WriteAddress16(value.Slice(4, 16));
        }

        if (xor)
        {
            Xor(value[4..], transactionId);
        }
    }

    /// <summary>False for a wrong length or an unknown family.</summary>
    public static bool TryRead(ReadOnlySpan<byte> value, bool xor, StunTransactionId transactionId, out Endpoint endpoint)
    {
        endpoint = default;
        if (value.Length < 4)
        {
            return false;
        }

        var family = value[1];
        var addressLength = family switch
        {
            FamilyIPv4 => 4,
            FamilyIPv6 => 16,
            _ => 0,
        };
        if (addressLength == 0 || value.Length != 4 + addressLength)
        {
            return false;
        }

        var port = BinaryPrimitives.ReadUInt16BigEndian(value[2..]);
        Span<byte> address = stackalloc byte[addressLength];
        value.Slice(4, addressLength).CopyTo(address);
        if (xor)
        {
            port ^= (ushort)(StunPacket.MagicCookie >> 16);
            Xor(address, transactionId);
        }

        endpoint = Endpoint.FromAddressBytes(address, port);
        return true;
    }

    private static void Xor(Span<byte> address, StunTransactionId transactionId)
    {
        Span<byte> mask = stackalloc byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(mask, StunPacket.MagicCookie);
        transactionId.WriteTo(mask[4..]);
        for (var i = 0; i < address.Length; i++)
        {
            address[i] ^= mask[i];
        }
    }
}
