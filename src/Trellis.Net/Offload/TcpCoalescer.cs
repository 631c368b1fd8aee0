using System.Buffers.Binary;
using Trellis.Core.Transport;

namespace Trellis.Net.Offload;

/// <summary>
/// Receive-side coalescing for a TUN with a virtio-net header (the userspace half of GRO): within one
/// batch, consecutive in-order TCP segments of one flow become a single super-packet the kernel takes
/// in one write and one trip up its stack. The rules are the kernel's: same addresses and ports, no
/// IPv4 options or IPv6 extension headers, identical TOS/TTL (traffic class, flow label, hop limit),
/// identical ACK, window and TCP options, contiguous sequence numbers, flags equal except PSH (which
/// ends a group) and CWR (first segment only); SYN, RST, URG and FIN segments and segments without
/// payload pass alone; a segment shorter than the first ends its group. Everything else passes as it
/// is, and the order of packets within each flow is kept. Arrays are sized once; planning allocates nothing.
/// </summary>
internal sealed class TcpCoalescer
{
    /// <summary>Segments per super-packet at most (one iovec each, and the kernel's own GRO limit).</summary>
    public const int MaxSegments = 64;

    private const int MaxIPLength = ushort.MaxValue;
    private const byte Tcp = 6;
    private const byte TcpFin = 0x01;
    private const byte TcpSyn = 0x02;
    private const byte TcpRst = 0x04;
    private const byte TcpPsh = 0x08;
    private const byte TcpAck = 0x10;
    private const byte TcpUrg = 0x20;
    private const byte TcpCwr = 0x80;

    // per packet: the next member of its group (-1 at the end)
    private readonly int[] _next;

    // per group, in the order groups were opened
    private readonly int[] _head;
    private readonly int[] _tail;
    private readonly int[] _count;
    private readonly int[] _length;
    private readonly int[] _segmentSize;
    private readonly uint[] _nextSequence;
    private readonly int[] _flowHash;
    private readonly bool[] _open;
    private readonly bool[] _push;

    public TcpCoalescer(int capacity)
    {
        Capacity = capacity;
        _next = new int[capacity];
        _head = new int[capacity];
        _tail = new int[capacity];
        _count = new int[capacity];
        _length = new int[capacity];
        _segmentSize = new int[capacity];
        _nextSequence = new uint[capacity];
        _flowHash = new int[capacity];
        _open = new bool[capacity];
        _push = new bool[capacity];
    }

    public int Capacity { get; }

    /// <summary>Groups found by the last <see cref="Plan"/>, each written once.</summary>
    public int GroupCount { get; private set; }

    /// <summary>Sorts <paramref name="packets"/> (whole IP packets, at most <see cref="Capacity"/>) into groups.</summary>
    public void Plan(ReadOnlySpan<PacketBuffer> packets)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(packets.Length, Capacity);
        GroupCount = 0;
        for (var i = 0; i < packets.Length; i++)
        {
            _next[i] = -1;
            var packet = packets[i].Packet;
            if (!TryParseTcp(packet, out var ipLength, out var tcpLength))
            {
                OpenGroup(i, packet, 0, 0, 0, open: false);
                continue;
            }

            var hash = FlowHash(packet, ipLength);
            var group = FindOpenGroup(packets, packet, ipLength, hash);
            var payload = packet.Length - ipLength - tcpLength;
            var flags = packet[ipLength + 13];
            var candidate = payload > 0 && (flags & (TcpSyn | TcpRst | TcpUrg | TcpFin | TcpAck)) == TcpAck && ipLength + tcpLength < packet.Length;
            if (group >= 0 && candidate && CanAppend(group, packets[_head[group]].Packet, packet, ipLength, tcpLength, payload))
            {
                _next[_tail[group]] = i;
                _tail[group] = i;
                _count[group]++;
                _length[group] += payload;
                _nextSequence[group] += (uint)payload;
                _push[group] = (flags & TcpPsh) != 0;
                _open[group] = payload == _segmentSize[group] && !_push[group] && _count[group] < MaxSegments;
                continue;
            }

            if (group >= 0)
            {
                _open[group] = false; // later segments of this flow must not overtake this one
            }

            var sequence = BinaryPrimitives.ReadUInt32BigEndian(packet[(ipLength + 4)..]);
            OpenGroup(i, packet, hash, payload, unchecked(sequence + (uint)payload), open: candidate && (flags & TcpPsh) == 0);
        }
    }

    /// <summary>The first packet of group <paramref name="group"/>; its headers become the super-packet's.</summary>
    public int Head(int group) => _head[group];

    public int Count(int group) => _count[group];

    /// <summary>The packet after <paramref name="packet"/> in its group, or -1.</summary>
    public int Next(int packet) => _next[packet];

    /// <summary>
    /// For a group of several segments, rewrites the head's IP length (and IPv4 header checksum), moves
    /// a PSH seen on the last segment to it and leaves the pseudo-header sum in the TCP checksum field
    /// for the kernel to complete; returns the virtio-net header to write before it. A single packet
    /// is left as it is, with an empty header.
    /// </summary>
    public VirtioNetHeader Finish(ReadOnlySpan<PacketBuffer> packets, int group)
    {
        if (_count[group] == 1)
        {
            return default;
        }

        var head = packets[_head[group]].Packet;
        var isIPv6 = head[0] >> 4 == 6;
        var ipLength = isIPv6 ? 40 : 20;
        var tcpLength = (head[ipLength + 13 - 1] >> 4) * 4;
        var length = _length[group];
        if (isIPv6)
        {
            BinaryPrimitives.WriteUInt16BigEndian(head[4..], (ushort)(length - ipLength));
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(head[2..], (ushort)length);
            GsoSplitter.WriteIPv4HeaderChecksum(head[..ipLength]);
        }

        if (_push[group])
        {
            head[ipLength + 13] |= TcpPsh;
        }

        var addressLength = isIPv6 ? 16 : 4;
        var addresses = isIPv6 ? 8 : 12;
        var pseudo = InternetChecksum.PseudoHeader(head.Slice(addresses, addressLength), head.Slice(addresses + addressLength, addressLength), Tcp, length - ipLength);
        BinaryPrimitives.WriteUInt16BigEndian(head[(ipLength + 16)..], InternetChecksum.Fold(pseudo));

        var type = isIPv6 ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4;
        if ((head[ipLength + 13] & TcpCwr) != 0)
        {
            type |= VirtioNetHeader.GsoEcn;
        }

        return new VirtioNetHeader
        {
            Flags = VirtioNetHeader.FlagNeedsCsum,
            GsoType = type,
            HeaderLength = (ushort)(ipLength + tcpLength),
            GsoSize = (ushort)_segmentSize[group],
            CsumStart = (ushort)ipLength,
            CsumOffset = 16,
        };
    }

    /// <summary>Where the TCP payload of a packet of a coalesced group starts (its headers are the head's).</summary>
    public static int PayloadOffset(ReadOnlySpan<byte> packet)
    {
        var ipLength = packet[0] >> 4 == 6 ? 40 : 20;
        return ipLength + ((packet[ipLength + 12] >> 4) * 4);
    }

    private void OpenGroup(int packetIndex, ReadOnlySpan<byte> packet, int hash, int payload, uint nextSequence, bool open)
    {
        var g = GroupCount++;
        _head[g] = packetIndex;
        _tail[g] = packetIndex;
        _count[g] = 1;
        _length[g] = packet.Length;
        _segmentSize[g] = payload;
        _nextSequence[g] = nextSequence;
        _flowHash[g] = hash;
        _open[g] = open;
        _push[g] = false;
    }

    private int FindOpenGroup(ReadOnlySpan<PacketBuffer> packets, ReadOnlySpan<byte> packet, int ipLength, int hash)
    {
        // Newest first: the group a flow's next segment belongs to is usually the latest one.
        for (var g = GroupCount - 1; g >= 0; g--)
        {
            if (_open[g] && _flowHash[g] == hash && SameFlow(packets[_head[g]].Packet, packet, ipLength))
            {
                return g;
            }
        }

        return -1;
    }

    private bool CanAppend(int group, ReadOnlySpan<byte> head, ReadOnlySpan<byte> packet, int ipLength, int tcpLength, int payload)
    {
        var headTcp = head[ipLength..];
        var tcp = packet[ipLength..];
        if (payload > _segmentSize[group]
            || BinaryPrimitives.ReadUInt32BigEndian(tcp[4..]) != _nextSequence[group]
            || _length[group] + payload > MaxIPLength + (ipLength == 40 ? 40 : 0)
            || (tcp[13] & TcpCwr) != 0
            || (tcp[13] & ~TcpPsh) != (headTcp[13] & ~(TcpPsh | TcpCwr))
            || !tcp[8..13].SequenceEqual(headTcp[8..13]) // acknowledgement number, data offset
            || !tcp.Slice(14, 2).SequenceEqual(headTcp.Slice(14, 2)) // window
            || !tcp[20..tcpLength].SequenceEqual(headTcp[20..tcpLength])) // options
        {
            return false;
        }

        if (ipLength == 40)
        {
            // version, traffic class, flow label; hop limit
            return packet[..4].SequenceEqual(head[..4]) && packet[7] == head[7];
        }

        var dontFragment = (packet[6] & 0x40) != 0;
        var id = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        var expectedId = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(head[4..]) + _count[group]);
        return packet[1] == head[1] && packet[8] == head[8] && dontFragment == ((head[6] & 0x40) != 0) && (dontFragment || id == expectedId);
    }

    /// <summary>A TCP packet the coalescer can place in a flow: a valid IPv4 (not a fragment) or IPv6 (no extension header) packet.</summary>
    private static bool TryParseTcp(ReadOnlySpan<byte> packet, out int ipLength, out int tcpLength)
    {
        ipLength = 0;
        tcpLength = 0;
        if (packet.Length < 40)
        {
            return false;
        }

        switch (packet[0] >> 4)
        {
            case 4:
                // IPv4 options would differ per packet in ways GRO does not merge: such packets pass alone.
                if ((packet[0] & 0xf) != 5 || packet[9] != Tcp || BinaryPrimitives.ReadUInt16BigEndian(packet[2..]) != packet.Length
                    || (BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x3fff) != 0)
                {
                    return false;
                }

                ipLength = 20;
                break;
            case 6:
                if (packet.Length < 60 || packet[6] != Tcp || BinaryPrimitives.ReadUInt16BigEndian(packet[4..]) + 40 != packet.Length)
                {
                    return false;
                }

                ipLength = 40;
                break;
            default:
                return false;
        }

        tcpLength = (packet[ipLength + 12] >> 4) * 4;
        return tcpLength >= 20 && ipLength + tcpLength <= packet.Length;
    }

    private static bool SameFlow(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, int ipLength) =>
        a[0] >> 4 == b[0] >> 4
        && (ipLength == 40 ? a[8..44].SequenceEqual(b[8..44]) : a[12..24].SequenceEqual(b[12..24]));

    private static int FlowHash(ReadOnlySpan<byte> packet, int ipLength)
    {
        var ports = BinaryPrimitives.ReadInt32LittleEndian(packet[ipLength..]);
        var last = BinaryPrimitives.ReadInt32LittleEndian(packet[(ipLength == 40 ? 36 : 16)..]); // low word of the destination
        var first = BinaryPrimitives.ReadInt32LittleEndian(packet[(ipLength == 40 ? 20 : 12)..]); // low word of the source
        return ports ^ last ^ (first * 31);
    }
}
