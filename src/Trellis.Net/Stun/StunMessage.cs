using System.Buffers.Binary;
using System.Text;
using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>
/// A parsed STUN message: what Trellis reads of it, not every attribute. Parsing never throws on
/// what the network sends; <see cref="TryParse"/> says no instead. MESSAGE-INTEGRITY (and its
/// SHA-256 form) is recognised but not verified: Trellis's STUN is unauthenticated, and the
/// attributes after it, other than FINGERPRINT, are ignored as RFC 8489 asks.
/// </summary>
public readonly struct StunMessage
{
    /// <summary>At most this many unknown comprehension-required attributes are collected (for error 420).</summary>
    public const int MaxUnknownAttributes = 16;

    private readonly IReadOnlyList<ushort>? _listedUnknown;
    private readonly IReadOnlyList<ushort>? _unknown;

    public StunMessageType Type { get; init; }

    public StunTransactionId TransactionId { get; init; }

    public Endpoint? XorMappedAddress { get; init; }

    public Endpoint? MappedAddress { get; init; }

    /// <summary>The address the server saw: XOR-MAPPED-ADDRESS, else the legacy MAPPED-ADDRESS.</summary>
    public Endpoint? ObservedAddress => XorMappedAddress ?? MappedAddress;

    public string? Software { get; init; }

    /// <summary>ERROR-CODE as a number (300-699), when present.</summary>
    public int? ErrorCode { get; init; }

    public string? ErrorReason { get; init; }

    /// <summary>The types an error 420 lists in UNKNOWN-ATTRIBUTES.</summary>
    public IReadOnlyList<ushort> ListedUnknownAttributes
    {
        get => _listedUnknown ?? [];
        init => _listedUnknown = value;
    }

    /// <summary>Comprehension-required attributes (type below 0x8000) this parser does not understand.</summary>
    public IReadOnlyList<ushort> UnknownComprehensionRequired
    {
        get => _unknown ?? [];
        init => _unknown = value;
    }

    public bool HasMessageIntegrity { get; init; }

    /// <summary>True when FINGERPRINT was present (and, since the message parsed, correct).</summary>
    public bool HasFingerprint { get; init; }

    /// <summary>
    /// Parses one datagram. False when it is not a well-formed STUN message: short, wrong first bits
    /// or cookie, a length that disagrees with the datagram or is not a multiple of 4, an attribute
    /// running past the end, an address or error attribute of the wrong shape, a FINGERPRINT that
    /// does not match or is not last.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out StunMessage message)
    {
        message = default;
        if (!StunPacket.IsStunPacket(packet))
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if ((length & 3) != 0 || packet.Length != StunPacket.HeaderLength + length)
        {
            return false;
        }

        var type = (StunMessageType)BinaryPrimitives.ReadUInt16BigEndian(packet);
        var transactionId = StunTransactionId.FromBytes(packet.Slice(8, StunTransactionId.Length));
        Endpoint? xorMapped = null;
        Endpoint? mapped = null;
        string? software = null;
        int? errorCode = null;
        string? errorReason = null;
        ushort[]? listedUnknown = null;
        Span<ushort> unknown = stackalloc ushort[MaxUnknownAttributes];
        var unknownCount = 0;
        var integrity = false;
        var fingerprint = false;

        var offset = StunPacket.HeaderLength;
        while (offset < packet.Length)
        {
            if (fingerprint || packet.Length - offset < 4)
            {
                return false;
            }

            var attributeType = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
            var valueLength = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
            var valueStart = offset + 4;
            var padded = (valueLength + 3) & ~3;
            if (padded > packet.Length - valueStart)
            {
                return false;
            }

            var value = packet.Slice(valueStart, valueLength);
            offset = valueStart + padded;

            if (attributeType == (ushort)StunAttributeType.Fingerprint)
            {
                var expected = StunCrc32.Compute(packet[..(valueStart - 4)]) ^ StunPacket.FingerprintXor;
                if (valueLength != 4 || BinaryPrimitives.ReadUInt32BigEndian(value) != expected)
                {
                    return false;
                }

                fingerprint = true;
                continue;
            }

            if (integrity)
            {
                continue;
            }

            switch ((StunAttributeType)attributeType)
            {
                case StunAttributeType.XorMappedAddress:
                    if (!StunAddress.TryRead(value, xor: true, transactionId, out var x))
                    {
                        return false;
                    }

                    xorMapped ??= x;
                    break;
                case StunAttributeType.MappedAddress:
                    if (!StunAddress.TryRead(value, xor: false, transactionId, out var m))
                    {
                        return false;
                    }

                    mapped ??= m;
                    break;
                case StunAttributeType.Software:
                    software ??= Encoding.UTF8.GetString(value);
                    break;
                case StunAttributeType.ErrorCode:
                    if (value.Length < 4)
                    {
                        return false;
                    }

                    errorCode ??= ((value[2] & 0x07) * 100) + value[3];
                    errorReason ??= Encoding.UTF8.GetString(value[4..]);
                    break;
                case StunAttributeType.UnknownAttributes:
                    if ((value.Length & 1) != 0)
                    {
                        return false;
                    }

                    listedUnknown ??= ReadTypes(value);
                    break;
                case StunAttributeType.MessageIntegrity:
                case StunAttributeType.MessageIntegritySha256:
                    integrity = true;
                    break;
                case StunAttributeType.Username:
                case StunAttributeType.Realm:
                case StunAttributeType.Nonce:
                case StunAttributeType.PasswordAlgorithm:
                case StunAttributeType.UserHash:
                    break; // understood, but only used for authentication, which Trellis does not do
                default:
                    if (attributeType < 0x8000 && unknownCount < unknown.Length && !unknown[..unknownCount].Contains(attributeType))
                    {
                        unknown[unknownCount++] = attributeType;
                    }

                    break;
            }
        }

        message = new StunMessage
        {
            Type = type,
            TransactionId = transactionId,
            XorMappedAddress = xorMapped,
            MappedAddress = mapped,
            Software = software,
            ErrorCode = errorCode,
            ErrorReason = errorReason,
            ListedUnknownAttributes = listedUnknown ?? [],
            UnknownComprehensionRequired = unknownCount == 0 ? [] : unknown[..unknownCount].ToArray(),
            HasMessageIntegrity = integrity,
            HasFingerprint = fingerprint,
        };
        return true;
    }

    private static ushort[] ReadTypes(ReadOnlySpan<byte> value)
    {
        var types = new ushort[value.Length / 2];
        for (var i = 0; i < types.Length; i++)
        {
            types[i] = BinaryPrimitives.ReadUInt16BigEndian(value[(2 * i)..]);
        }

        return types;
    }
}
