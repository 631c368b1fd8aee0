using System.Buffers.Binary;
using System.Text;
using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>
/// Builds one STUN message in a caller's buffer: the header at construction, then attributes in
/// order, then <see cref="Finish"/> (length field, and FINGERPRINT unless told not to). The buffer
/// is ours to fill, so running out of room is a programming error and throws.
/// </summary>
public ref struct StunWriter
{
    /// <summary>RFC 8489 caps SOFTWARE at 763 bytes (128 characters).</summary>
    public const int MaxSoftwareBytes = 763;

    private readonly Span<byte> _buffer;
    private readonly StunTransactionId _transactionId;
    private int _length;
    private bool _finished;

    public StunWriter(Span<byte> destination, StunMessageType type, StunTransactionId transactionId)
    {
        if (destination.Length < StunPacket.HeaderLength)
        {
            throw new ArgumentException($"a STUN message needs at least {StunPacket.HeaderLength} bytes", nameof(destination));
        }

        _buffer = destination;
        _transactionId = transactionId;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], StunPacket.MagicCookie);
        transactionId.WriteTo(destination.Slice(8, StunTransactionId.Length));
        _length = StunPacket.HeaderLength;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    public void AddXorMappedAddress(Endpoint endpoint) => AddAddress(StunAttributeType.XorMappedAddress, endpoint, xor: true);

    public void AddMappedAddress(Endpoint endpoint) => AddAddress(StunAttributeType.MappedAddress, endpoint, xor: false);

    public void AddSoftware(string software)
    {
        ArgumentNullException.ThrowIfNull(software);
        var byteCount = Encoding.UTF8.GetByteCount(software);
        if (byteCount > MaxSoftwareBytes)
        {
            throw new ArgumentException($"SOFTWARE is at most {MaxSoftwareBytes} bytes", nameof(software));
        }

        var value = Reserve((ushort)StunAttributeType.Software, byteCount);
        Encoding.UTF8.GetBytes(software, value);
    }

    /// <summary>ERROR-CODE: <paramref name="code"/> 300-699 and a short reason phrase.</summary>
    public void AddErrorCode(int code, string reason)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(code, 300);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(code, 699);
        ArgumentNullException.ThrowIfNull(reason);
        var value = Reserve((ushort)StunAttributeType.ErrorCode, 4 + Encoding.UTF8.GetByteCount(reason));
        value[0] = 0;
        value[1] = 0;
        value[2] = (byte)(code / 100);
        value[3] = (byte)(code % 100);
        Encoding.UTF8.GetBytes(reason, value[4..]);
    }

    public void AddUnknownAttributes(ReadOnlySpan<ushort> types)
    {
        var value = Reserve((ushort)StunAttributeType.UnknownAttributes, 2 * types.Length);
        for (var i = 0; i < types.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(value[(2 * i)..], types[i]);
        }
    }

    /// <summary>Any attribute, its value as given (padding is added).</summary>
    public void AddAttribute(ushort type, ReadOnlySpan<byte> value) => value.CopyTo(Reserve(type, value.Length));

    /// <summary>Sets the length field, appends FINGERPRINT when asked, and returns the message's length.</summary>
    public int Finish(bool fingerprint = true)
    {
        if (_finished)
        {
            throw new InvalidOperationException("the message is already finished");
        }

        if (fingerprint)
        {
            // The CRC covers the header with its length already counting the FINGERPRINT attribute.
            EnsureRoom(8);
            SetLengthField(_length + 8 - StunPacket.HeaderLength);
            var crc = StunCrc32.Compute(_buffer[.._length]) ^ StunPacket.FingerprintXor;
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], (ushort)StunAttributeType.Fingerprint);
            BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_length + 2)..], 4);
            BinaryPrimitives.WriteUInt32BigEndian(_buffer[(_length + 4)..], crc);
            _length += 8;
        }
        else
        {
            SetLengthField(_length - StunPacket.HeaderLength);
        }

        _finished = true;
        return _length;
    }

    private void AddAddress(StunAttributeType type, in Endpoint endpoint, bool xor)
    {
        var value = Reserve((ushort)type, StunAddress.LengthOf(endpoint));
        StunAddress.Write(value, endpoint, xor, _transactionId);
    }

    /// <summary>Writes an attribute header, zeroes the padding, and returns the value's span to fill.</summary>
    private Span<byte> Reserve(ushort type, int valueLength)
    {
        if (_finished)
        {
            throw new InvalidOperationException("the message is already finished");
        }

        if (valueLength > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(valueLength), "an attribute value is at most 65535 bytes");
        }

        var padded = (valueLength + 3) & ~3;
        EnsureRoom(4 + padded);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[_length..], type);
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_length + 2)..], (ushort)valueLength);
        var value = _buffer.Slice(_length + 4, valueLength);
        _buffer.Slice(_length + 4 + valueLength, padded - valueLength).Clear();
        _length += 4 + padded;
        return value;
    }

    private readonly void EnsureRoom(int bytes)
    {
        if (_buffer.Length - _length < bytes || _length + bytes - StunPacket.HeaderLength > ushort.MaxValue)
        {
            throw new ArgumentException("the STUN message does not fit its buffer");
        }
    }

    private readonly void SetLengthField(int length) => BinaryPrimitives.WriteUInt16BigEndian(_buffer[2..], (ushort)length);
}
