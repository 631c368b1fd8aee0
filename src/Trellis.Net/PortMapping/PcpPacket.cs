using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Net.PortMapping;

/// <summary>
/// PCP wire format (RFC 6887): a 24-byte common header, then for MAP (§11.1) a 36-byte payload.
/// Addresses are 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d).
/// </summary>
public static class PcpPacket
{
    public const int Port = 5351;
    public const byte Version = 2;
    public const byte OpcodeMap = 1;
    public const byte ResponseBit = 0x80;
    public const byte ProtocolUdp = 17;
    public const int NonceLength = 12;
    public const int HeaderLength = 24;
    public const int MapLength = HeaderLength + 36;

    /// <summary>RFC 6887 §7: no PCP message is longer.</summary>
    public const int MaxLength = 1100;

    /// <summary>
    /// A MAP request. <paramref name="client"/> is this host's address as the gateway sees it (the
    /// source of the request); a lifetime of 0 deletes the mapping, which then needs the nonce it was made with.
    /// </summary>
    public static byte[] MapRequest(
        IPAddress client,
        ReadOnlySpan<byte> nonce,
        byte protocol,
        ushort internalPort,
        ushort suggestedExternalPort,
        IPAddress? suggestedExternalAddress,
        uint lifetimeSeconds)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (nonce.Length != NonceLength)
        {
            throw new ArgumentException($"a PCP nonce is {NonceLength} bytes", nameof(nonce));
        }

        var request = new byte[MapLength];
        request[0] = Version;
        request[1] = OpcodeMap;
        BinaryPrimitives.WriteUInt32BigEndian(request.AsSpan(4), lifetimeSeconds);
        WriteAddress(request.AsSpan(8, 16), client);
        nonce.CopyTo(request.AsSpan(24));
        request[36] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(40), internalPort);
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(42), suggestedExternalPort);

        // "No preference" is the all-zeros address of the family the mapping is for (§11.1).
        var external = suggestedExternalAddress
            ?? (client.AddressFamily == AddressFamily.InterNetwork || client.IsIPv4MappedToIPv6 ? IPAddress.Any : IPAddress.IPv6Any);
        WriteAddress(request.AsSpan(44, 16), external);
        return request;
    }

    /// <summary>Parses a MAP response; false for anything else (other versions, opcodes, truncated or oversized datagrams).</summary>
    public static bool TryParseMapResponse(ReadOnlySpan<byte> reply, out PcpMapResponse response)
    {
        response = default;
        if (reply.Length < MapLength || reply.Length > MaxLength || reply.Length % 4 != 0
            || reply[0] != Version || reply[1] != (ResponseBit | OpcodeMap))
        {
            return false;
        }

        response = new PcpMapResponse(
            (PcpResultCode)reply[3],
            BinaryPrimitives.ReadUInt32BigEndian(reply[4..]),
            BinaryPrimitives.ReadUInt32BigEndian(reply[8..]),
            reply.Slice(24, NonceLength).ToArray(),
            reply[36],
            BinaryPrimitives.ReadUInt16BigEndian(reply[40..]),
            BinaryPrimitives.ReadUInt16BigEndian(reply[42..]),
            ReadAddress(reply.Slice(44, 16)));
        return true;
    }

    /// <summary>
    /// Whether a reply says the gateway does not speak this PCP version: a PCP response with
    /// UNSUPP_VERSION (§9), or a NAT-PMP-only gateway's version-0 reply with result 1 (RFC 6886 §3.5).
    /// </summary>
    public static bool IsUnsupportedVersion(ReadOnlySpan<byte> reply) =>
        reply.Length >= 4 && (reply[1] & ResponseBit) != 0
        && (reply[0] == NatPmpPacket.Version
            ? BinaryPrimitives.ReadUInt16BigEndian(reply[2..]) == (ushort)NatPmpResultCode.UnsupportedVersion
            : reply[3] == (byte)PcpResultCode.UnsupportedVersion);

    private static void WriteAddress(Span<byte> destination, IPAddress address)
    {
        var v6 = address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : address;
        v6.TryWriteBytes(destination, out _);
    }

    private static IPAddress ReadAddress(ReadOnlySpan<byte> bytes)
    {
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
    }
}
