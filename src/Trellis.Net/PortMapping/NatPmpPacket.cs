using System.Buffers.Binary;
using System.Net;

namespace Trellis.Net.PortMapping;

/// <summary>NAT-PMP wire format (RFC 6886 §3): version 0, big-endian, replies carry the request's opcode + 128.</summary>
public static class NatPmpPacket
{
    public const int Port = 5351;
    public const byte Version = 0;
    public const byte OpcodeExternalAddress = 0;
    public const byte OpcodeMapUdp = 1;
    public const byte ReplyBit = 0x80;
    public const int ExternalAddressRequestLength = 2;
    public const int MapRequestLength = 12;
    public const int ExternalAddressResponseLength = 12;
    public const int MapResponseLength = 16;

    /// <summary>The shortest reply: version, opcode, result and epoch (what an error reply may be cut to).</summary>
    private const int HeaderLength = 8;

    public static byte[] ExternalAddressRequest() => [Version, OpcodeExternalAddress];

    /// <summary>Map UDP (§3.3): lifetime 0 with external port 0 deletes the mapping of <paramref name="internalPort"/>.</summary>
    public static byte[] MapUdpRequest(ushort internalPort, ushort suggestedExternalPort, uint lifetimeSeconds)
    {
        var request = new byte[MapRequestLength];
        request[0] = Version;
        request[1] = OpcodeMapUdp;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(4), internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(6), suggestedExternalPort);
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(8), lifetimeSeconds);
        return request;
    }

    /// <summary>Parses an external address reply; an error reply may be short, its address is then 0.0.0.0.</summary>
    public static bool TryParseExternalAddressResponse(ReadOnlySpan<byte> reply, out NatPmpAddressResponse response)
    {
        response = default;
        if (!TryParseHeader(reply, OpcodeExternalAddress, out var result, out var epoch))
        {
            return false;
        }

        if (result == NatPmpResultCode.Success && reply.Length < ExternalAddressResponseLength)
        {
            return false;
        }

        var address = reply.Length >= ExternalAddressResponseLength ? new IPAddress(reply[8..12]) : IPAddress.Any;
        response = new NatPmpAddressResponse(result, epoch, address);
        return true;
    }

    /// <summary>Parses a map-UDP reply; an error reply may be short, its ports and lifetime are then 0.</summary>
    public static bool TryParseMapResponse(ReadOnlySpan<byte> reply, out NatPmpMapResponse response)
    {
        response = default;
        if (!TryParseHeader(reply, OpcodeMapUdp, out var result, out var epoch))
        {
            return false;
        }

        if (reply.Length < MapResponseLength)
        {
            if (result == NatPmpResultCode.Success)
            {
                return false;
            }

            response = new NatPmpMapResponse(result, epoch, 0, 0, 0);
            return true;
        }

        response = new NatPmpMapResponse(
            result,
            epoch,
            BinaryPrimitives.ReadUInt16BigEndian(reply[8..]),
            BinaryPrimitives.ReadUInt16BigEndian(reply[10..]),
            BinaryPrimitives.ReadUInt32BigEndian(reply[12..]));
        return true;
    }

    private static bool TryParseHeader(ReadOnlySpan<byte> reply, byte opcode, out NatPmpResultCode result, out uint epoch)
    {
        result = default;
        epoch = 0;
        if (reply.Length < HeaderLength || reply[0] != Version || reply[1] != (ReplyBit | opcode))
        {
            return false;
        }

        result = (NatPmpResultCode)BinaryPrimitives.ReadUInt16BigEndian(reply[2..]);
        epoch = BinaryPrimitives.ReadUInt32BigEndian(reply[4..]);
        return true;
    }
}
