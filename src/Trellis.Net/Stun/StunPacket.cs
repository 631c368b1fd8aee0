using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>
/// STUN (RFC 8489) framing constants and the one-call helpers the node's socket needs. (Not named
/// "Stun": a class named like its namespace would be unreachable by that name from Trellis.Net.*.)
/// </summary>
public static class StunPacket
{
    public const int HeaderLength = 20;

    public const uint MagicCookie = 0x2112A442;

    /// <summary>XORed into the CRC-32 of FINGERPRINT so a STUN CRC is not mistaken for another protocol's.</summary>
    public const uint FingerprintXor = 0x5354554E;

    /// <summary>A request with FINGERPRINT: the header and one 8-byte attribute.</summary>
    public const int BindingRequestLength = HeaderLength + 8;

    /// <summary>
    /// Whether a datagram looks like STUN (top two bits zero, the magic cookie at bytes 4-8), for the
    /// demultiplexer that shares one socket between WireGuard, discovery and STUN. Cheap and
    /// allocation-free; <see cref="StunMessage.TryParse"/> does the real checking.
    /// </summary>
    public static bool IsStunPacket(ReadOnlySpan<byte> packet) =>
        packet.Length >= HeaderLength
        && (packet[0] & 0xC0) == 0
        && BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) == MagicCookie;

    /// <summary>Writes a Binding Request with FINGERPRINT; returns its length (<see cref="BindingRequestLength"/>).</summary>
    public static int WriteBindingRequest(Span<byte> destination, StunTransactionId transactionId)
    {
        var writer = new StunWriter(destination, StunMessageType.BindingRequest, transactionId);
        return writer.Finish();
    }

    /// <summary>Writes a Binding Success Response carrying the observed address, SOFTWARE (when given) and FINGERPRINT.</summary>
    public static int WriteBindingSuccess(Span<byte> destination, StunTransactionId transactionId, Endpoint mapped, string? software = null)
    {
        var writer = new StunWriter(destination, StunMessageType.BindingSuccess, transactionId);
        writer.AddXorMappedAddress(mapped);
        if (!string.IsNullOrEmpty(software))
        {
            writer.AddSoftware(software);
        }

        return writer.Finish();
    }

    /// <summary>Writes a Binding Error Response (with UNKNOWN-ATTRIBUTES when listed, as 420 needs), SOFTWARE and FINGERPRINT.</summary>
    public static int WriteBindingError(
        Span<byte> destination,
        StunTransactionId transactionId,
        int code,
        string reason,
        ReadOnlySpan<ushort> unknownAttributes = default,
        string? software = null)
    {
        var writer = new StunWriter(destination, StunMessageType.BindingError, transactionId);
        writer.AddErrorCode(code, reason);
        if (!unknownAttributes.IsEmpty)
        {
            writer.AddUnknownAttributes(unknownAttributes);
        }

        if (!string.IsNullOrEmpty(software))
        {
            writer.AddSoftware(software);
        }

        return writer.Finish();
    }
}
