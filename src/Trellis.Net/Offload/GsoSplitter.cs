using System.Buffers.Binary;

namespace Trellis.Net.Offload;

/// <summary>Where the parts of one GSO super-packet are, as <see cref="GsoSplitter.TryPlan"/> found them.</summary>
internal readonly record struct GsoLayout(bool IsIPv6, bool IsTcp, int TransportOffset, int HeaderLength, int SegmentSize, int PacketLength)
{
    public int PayloadLength => PacketLength - HeaderLength;

    public int Segments => (PayloadLength + SegmentSize - 1) / SegmentSize;

    /// <summary>The largest segment, headers included.</summary>
    public int MaxSegmentLength => HeaderLength + SegmentSize;
}

/// <summary>
/// Cuts the super-packets a TUN with TSO/USO hands over (up to 64 KiB of one TCP or UDP flow behind
/// one set of headers) into the MTU-sized packets the kernel would have sent, as its own GSO does:
/// per segment the IPv4 total length, identification (+1 each) and header checksum, or the IPv6
/// payload length; TCP sequence numbers, FIN and PSH only on the last segment and CWR only on the
/// first; UDP lengths; TCP/UDP checksums over each segment.
/// </summary>
internal static class GsoSplitter
{
    private const int IPv4MinHeader = 20;
    private const int IPv6Header = 40;
    private const int TcpMinHeader = 20;
    private const int UdpHeader = 8;
    private const byte Tcp = 6;
    private const byte Udp = 17;
    private const byte TcpFin = 0x01;
    private const byte TcpPsh = 0x08;
    private const byte TcpCwr = 0x80;

    /// <summary>Checks the header against the packet; false when it cannot be split (the packet is then dropped).</summary>
    public static bool TryPlan(in VirtioNetHeader header, ReadOnlySpan<byte> packet, out GsoLayout layout)
    {
        layout = default;
        var type = header.GsoType & ~VirtioNetHeader.GsoEcn;
        if (packet.Length < IPv4MinHeader || header.GsoSize == 0)
        {
            return false;
        }

        var version = packet[0] >> 4;
        var isTcp = type is VirtioNetHeader.GsoTcpV4 or VirtioNetHeader.GsoTcpV6;
        var versionMatches = type switch
        {
            VirtioNetHeader.GsoTcpV4 => version == 4,
            VirtioNetHeader.GsoTcpV6 => version == 6,
            VirtioNetHeader.GsoUdpL4 => version is 4 or 6,
            _ => false,
        };
        if (!versionMatches)
        {
            return false;
        }

        var protocol = isTcp ? Tcp : Udp;
        int transport;
        if (version == 4)
        {
            transport = (packet[0] & 0xf) * 4;
            if (transport < IPv4MinHeader || packet[9] != protocol || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3fff) != 0)
            {
                return false; // also refuses fragments
            }
        }
        else
        {
            // Extension headers lie between the fixed header and csum_start; the kernel put them there.
            transport = header.CsumStart;
            if (packet.Length < IPv6Header || transport < IPv6Header || (transport == IPv6Header && packet[6] != protocol))
            {
                return false;
            }
        }

        if (transport + (isTcp ? TcpMinHeader : UdpHeader) > packet.Length)
        {
            return false;
        }

        var headerLength = transport + (isTcp ? (packet[transport + 12] >> 4) * 4 : UdpHeader);
        if ((isTcp && headerLength - transport < TcpMinHeader) || headerLength >= packet.Length)
        {
            return false;
        }

        layout = new GsoLayout(version == 6, isTcp, transport, headerLength, header.GsoSize, packet.Length);
        return true;
    }

    /// <summary>
    /// Writes segment <paramref name="index"/> of <paramref name="packet"/> into <paramref name="destination"/>
    /// and returns its length. The destination may be the packet's own start for segment 0, written last.
    /// </summary>
    public static int WriteSegment(in GsoLayout layout, ReadOnlySpan<byte> packet, int index, Span<byte> destination)
    {
        var headerLength = layout.HeaderLength;
        var payloadStart = headerLength + (index * layout.SegmentSize);
        var payloadLength = Math.Min(layout.SegmentSize, layout.PacketLength - payloadStart);
        var length = headerLength + payloadLength;
        var segment = destination[..length];
        packet[payloadStart..(payloadStart + payloadLength)].CopyTo(segment[headerLength..]);
        packet[..headerLength].CopyTo(segment);

        int addressOffset, addressLength;
        if (layout.IsIPv6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(length - IPv6Header));
            (addressOffset, addressLength) = (8, 16);
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(segment[2..], (ushort)length);
            var id = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
            BinaryPrimitives.WriteUInt16BigEndian(segment[4..], (ushort)(id + index));
            WriteIPv4HeaderChecksum(segment[..layout.TransportOffset]);
            (addressOffset, addressLength) = (12, 4);
        }

        var transport = segment[layout.TransportOffset..];
        int checksumAt;
        if (layout.IsTcp)
        {
            var sequence = BinaryPrimitives.ReadUInt32BigEndian(packet[(layout.TransportOffset + 4)..]);
            BinaryPrimitives.WriteUInt32BigEndian(transport[4..], unchecked(sequence + (uint)(index * layout.SegmentSize)));
            var flags = transport[13];
            if (index != layout.Segments - 1)
            {
                flags &= unchecked((byte)~(TcpFin | TcpPsh));
            }

            if (index != 0)
            {
                flags &= unchecked((byte)~TcpCwr);
            }

            transport[13] = flags;
            checksumAt = 16;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(transport[4..], (ushort)transport.Length);
            checksumAt = 6;
        }

        transport[checksumAt] = 0;
        transport[checksumAt + 1] = 0;
        var sum = InternetChecksum.PseudoHeader(
            segment.Slice(addressOffset, addressLength),
            segment.Slice(addressOffset + addressLength, addressLength),
            layout.IsTcp ? Tcp : Udp,
            transport.Length);
        BinaryPrimitives.WriteUInt16BigEndian(transport[checksumAt..], NonZero(InternetChecksum.Complete(InternetChecksum.Add(transport, sum))));
        return length;
    }

    /// <summary>
    /// Finishes the partial checksum of a packet the kernel left to the device (NEEDS_CSUM without
    /// GSO): the field holds the pseudo-header sum; false when the offsets lie outside the packet.
    /// </summary>
    public static bool CompleteChecksum(in VirtioNetHeader header, Span<byte> packet)
    {
        var start = header.CsumStart;
        var field = start + header.CsumOffset;
        if (start >= packet.Length || field + 2 > packet.Length || (header.CsumOffset & 1) != 0)
        {
            return false;
        }

        // Words count from csum_start, so only the field's distance from it must be even.
        var sum = InternetChecksum.Add(packet[start..]);
        BinaryPrimitives.WriteUInt16BigEndian(packet[field..], NonZero(InternetChecksum.Complete(sum)));
        return true;
    }

    public static void WriteIPv4HeaderChecksum(Span<byte> header)
    {
        header[10] = 0;
        header[11] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(header[10..], InternetChecksum.Complete(InternetChecksum.Add(header)));
    }

    // 0 and 0xffff are the same sum; UDP reserves 0 for "no checksum", so never write it.
    private static ushort NonZero(ushort checksum) => checksum == 0 ? (ushort)0xffff : checksum;
}
