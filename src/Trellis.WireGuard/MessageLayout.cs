using System.Buffers.Binary;

namespace Trellis.WireGuard;

/// <summary>Sizes and byte offsets of the four messages (all integers little-endian).</summary>
public static class MessageLayout
{
    public const int InitiationSize = 148;
    public const int ResponseSize = 92;
    public const int CookieReplySize = 64;
    public const int TransportHeaderSize = 16;
    public const int TagSize = 16;
    public const int TransportMinSize = TransportHeaderSize + TagSize;
    public const int KeepaliveSize = TransportMinSize;

    // initiation
    public const int InitSender = 4;
    public const int InitEphemeral = 8;
    public const int InitStatic = 40;
    public const int InitStaticSize = 32 + TagSize;
    public const int InitTimestamp = 88;
    public const int InitTimestampSize = 12 + TagSize;
    public const int InitMac1 = 116;
    public const int InitMac2 = 132;

    // response
    public const int RespSender = 4;
    public const int RespReceiver = 8;
    public const int RespEphemeral = 12;
    public const int RespEmpty = 44;
    public const int RespMac1 = 60;
    public const int RespMac2 = 76;

    // cookie reply
    public const int CookieReceiver = 4;
    public const int CookieNonce = 8;
    public const int CookieEncrypted = 32;
    public const int CookieEncryptedSize = 16 + TagSize;

    // transport
    public const int TransportReceiver = 4;
    public const int TransportCounter = 8;

    /// <summary>The message type when the header is well-formed (type byte then three zeros), else 0.</summary>
    public static MessageType ReadType(ReadOnlySpan<byte> packet)
    {
        if (packet.Length < 4)
        {
            return 0;
        }

        var word = BinaryPrimitives.ReadUInt32LittleEndian(packet);
        return word is >= 1 and <= 4 ? (MessageType)word : 0;
    }

    public static void WriteType(Span<byte> packet, MessageType type) => BinaryPrimitives.WriteUInt32LittleEndian(packet, (uint)type);

    /// <summary>Where mac1 starts (and the MAC'd prefix ends) in an initiation or response.</summary>
    public static int Mac1Offset(int messageSize) => messageSize - 32;

    public static int Mac2Offset(int messageSize) => messageSize - 16;

    /// <summary>Bytes of zero padding for a plaintext of <paramref name="size"/> under <paramref name="mtu"/> (never past the MTU).</summary>
    public static int PaddingSize(int size, int mtu)
    {
        var lastUnit = size;
        if (mtu == 0)
        {
            return ((lastUnit + Constants.PaddingMultiple - 1) & ~(Constants.PaddingMultiple - 1)) - lastUnit;
        }

        if (lastUnit > mtu)
        {
            lastUnit %= mtu;
        }

        var padded = (lastUnit + Constants.PaddingMultiple - 1) & ~(Constants.PaddingMultiple - 1);
        if (padded > mtu)
        {
            padded = mtu;
        }

        return padded - lastUnit;
    }
}
