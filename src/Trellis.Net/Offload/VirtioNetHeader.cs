using System.Buffers.Binary;

namespace Trellis.Net.Offload;

/// <summary>
/// struct virtio_net_hdr, the 10 bytes in front of every packet on a TUN opened with IFF_VNET_HDR:
/// how the kernel wants a packet segmented (GSO) and where a checksum is still to be filled in.
/// Fields are in the host's byte order (little-endian on every platform LinuxTun supports).
/// </summary>
internal struct VirtioNetHeader
{
    public const int Size = 10;

    /// <summary>The transport checksum is partial: sum from CsumStart, store at CsumStart + CsumOffset.</summary>
    public const byte FlagNeedsCsum = 1;

    public const byte GsoNone = 0;
    public const byte GsoTcpV4 = 1;
    public const byte GsoTcpV6 = 4;
    public const byte GsoUdpL4 = 5;

    /// <summary>Or'ed into the GSO type: the first segment carries CWR.</summary>
    public const byte GsoEcn = 0x80;

    public byte Flags;
    public byte GsoType;
    public ushort HeaderLength;
    public ushort GsoSize;
    public ushort CsumStart;
    public ushort CsumOffset;

    public static VirtioNetHeader Read(ReadOnlySpan<byte> bytes) => new()
    {
        Flags = bytes[0],
        GsoType = bytes[1],
        HeaderLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[2..]),
        GsoSize = BinaryPrimitives.ReadUInt16LittleEndian(bytes[4..]),
        CsumStart = BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]),
        CsumOffset = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]),
    };

    public readonly void Write(Span<byte> bytes)
    {
        bytes[0] = Flags;
        bytes[1] = GsoType;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[2..], HeaderLength);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[4..], GsoSize);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[6..], CsumStart);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[8..], CsumOffset);
    }
}
