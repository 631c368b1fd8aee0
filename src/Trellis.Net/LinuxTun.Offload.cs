using System.Runtime.InteropServices;
using Trellis.Core.Transport;
using Trellis.Net.Offload;

namespace Trellis.Net;

/// <summary>
/// The offload path: with IFF_VNET_HDR every packet crosses the TUN behind a virtio-net header. Reads
/// may be TCP/UDP super-packets (TSO/USO) or carry an unfinished checksum; they are split and finished
/// here into the caller's buffers, so the device above sees only MTU-sized, checksummed packets.
/// Writes coalesce each batch's in-order TCP segments per flow into super-packets (GRO) and hand them
/// over with one writev each, payloads taken in place from the packets' own buffers.
/// </summary>
public sealed unsafe partial class LinuxTun
{
    /// <summary>The environment variable that turns offloads off when set to 0 (for comparison, or a kernel that misbehaves).</summary>
    public const string OffloadVariable = OffloadSwitch.Variable;

    private const TunOffloads Tso = TunOffloads.Checksum | TunOffloads.Tso4 | TunOffloads.Tso6 | TunOffloads.TsoEcn;
    private const TunOffloads Uso = TunOffloads.Uso4 | TunOffloads.Uso6;

    // Room after a caller's buffer for the largest super-packet (64 KiB of IP packet) beyond it.
    private const int SpillSize = 256;

    private readonly bool _vnetHeader;

    // read side, touched only by the one reader
    private readonly byte[] _readHeader = GC.AllocateArray<byte>(VirtioNetHeader.Size, pinned: true);
    private readonly byte[] _spill = GC.AllocateArray<byte>(SpillSize, pinned: true);
    private byte[]? _pending; // a super-packet whose segments did not all fit the caller's batch
    private GsoLayout _pendingLayout;
    private int _pendingNext = -1;
    private long _droppedReads;

    // write side, touched by one writer at a time
    private readonly TcpCoalescer _coalescer = new(DefaultBatchSize);
    private volatile bool _coalesce = true;

    /// <summary>The offloads the kernel accepted (None when off or refused).</summary>
    public TunOffloads Offloads { get; }

    /// <summary>Packets read from the kernel with a virtio-net header this device could not make sense of.</summary>
    public long DroppedReads => Interlocked.Read(ref _droppedReads);

    /// <summary>Whether TCP segments written in one batch are coalesced (off after the kernel refused a super-packet).</summary>
    public bool Coalescing => _vnetHeader && _coalesce;

    /// <summary>False when <see cref="OffloadVariable"/> is "0", "false" or "off".</summary>
    public static bool OffloadFromEnvironment() => OffloadSwitch.FromEnvironment();

    /// <summary>TUNSETOFFLOAD: checksum and TCP segmentation, and UDP segmentation where the kernel has it (6.2 and later).</summary>
    private static TunOffloads EnableOffloads(int fd)
    {
        var size = VirtioNetHeader.Size;
        if (Libc.ioctl(fd, Libc.TUNSETVNETHDRSZ, &size) != 0)
        {
            return TunOffloads.None; // the header stays at its default size, which is this one
        }

        foreach (var wanted in stackalloc[] { Tso | Uso, Tso })
        {
            // The argument is an unsigned long passed by value, not a pointer.
            if (Libc.ioctl(fd, Libc.TUNSETOFFLOAD, (void*)(nuint)wanted) == 0)
            {
                return wanted;
            }
        }

        return TunOffloads.None;
    }

    /// <summary>Like <see cref="Drain"/>, for packets behind a virtio-net header; splits super-packets into the batch.</summary>
    private int DrainWithHeaders(Span<PacketBuffer> packets, int offset)
    {
        var count = EmitPending(packets, offset, 0);
        var iov = stackalloc IoVec[3];
        iov[0] = new IoVec { Base = PinnedData.Pointer(_readHeader), Length = VirtioNetHeader.Size };
        iov[2] = new IoVec { Base = PinnedData.Pointer(_spill), Length = SpillSize };
        var room = PacketBuffer.Capacity - offset;
        while (count < packets.Length && _pendingNext < 0)
        {
            var buffer = packets[count];
            iov[1] = new IoVec { Base = PinnedData.Pointer(buffer) + offset, Length = (nuint)room };
            var n = Libc.readv(_tun.Value, iov, 3);
            if (n < 0)
            {
                if (RetryRead(Marshal.GetLastPInvokeError(), count))
                {
                    continue;
                }

                break;
            }

            var length = (int)n - VirtioNetHeader.Size;
            var header = VirtioNetHeader.Read(_readHeader);
            if (length <= 0)
            {
                Interlocked.Increment(ref _droppedReads);
                continue;
            }

            if (header.GsoType == VirtioNetHeader.GsoNone)
            {
                var packet = buffer.Data.Slice(offset, Math.Min(length, room));
                if (length > room || ((header.Flags & VirtioNetHeader.FlagNeedsCsum) != 0 && !GsoSplitter.CompleteChecksum(header, packet)))
                {
                    Interlocked.Increment(ref _droppedReads);
                    continue;
                }

                buffer.Offset = offset;
                buffer.Length = length;
                count++;
                continue;
            }

            count = Split(packets, offset, count, header, length);
        }

        return count;
    }

    /// <summary>Splits the super-packet just read into packets[count] onward; what does not fit waits in the pending buffer.</summary>
    private int Split(Span<PacketBuffer> packets, int offset, int count, in VirtioNetHeader header, int length)
    {
        var buffer = packets[count];
        var room = PacketBuffer.Capacity - offset;
        ReadOnlySpan<byte> source = buffer.Data.Slice(offset, Math.Min(length, room));
        if (length > room)
        {
            source = Park(source, _spill.AsSpan(0, length - room));
        }

        if (!GsoSplitter.TryPlan(header, source, out var layout) || layout.MaxSegmentLength > room)
        {
            _pendingNext = -1;
            Interlocked.Increment(ref _droppedReads);
            return count;
        }

        var segments = layout.Segments;
        if (length <= room && segments <= packets.Length - count)
        {
            // Segment 0 lands where the super-packet starts, so it is cut last.
            for (var i = segments - 1; i >= 0; i--)
            {
                var into = packets[count + i];
                into.Length = GsoSplitter.WriteSegment(layout, source, i, into.Data.Slice(offset));
                into.Offset = offset;
            }

            return count + segments;
        }

        if (length <= room)
        {
            Park(source, default);
        }

        _pendingLayout = layout;
        _pendingNext = 0;
        return EmitPending(packets, offset, count);
    }

    /// <summary>Copies a super-packet (in one or two pieces) into the pending buffer, allocated on first need.</summary>
    private ReadOnlySpan<byte> Park(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second)
    {
        _pending ??= GC.AllocateUninitializedArray<byte>(PacketBuffer.Capacity + SpillSize);
        first.CopyTo(_pending);
        second.CopyTo(_pending.AsSpan(first.Length));
        _pendingNext = 0;
        return _pending.AsSpan(0, first.Length + second.Length);
    }

    private int EmitPending(Span<PacketBuffer> packets, int offset, int count)
    {
        if (_pendingNext < 0)
        {
            return count;
        }

        var source = _pending.AsSpan(0, _pendingLayout.PacketLength);
        var segments = _pendingLayout.Segments;
        while (count < packets.Length && _pendingNext < segments)
        {
            var into = packets[count++];
            into.Length = GsoSplitter.WriteSegment(_pendingLayout, source, _pendingNext++, into.Data.Slice(offset));
            into.Offset = offset;
        }

        if (_pendingNext == segments)
        {
            _pendingNext = -1;
        }

        return count;
    }

    /// <summary>Writes a batch behind virtio-net headers, in-order TCP segments of a flow coalesced.</summary>
    private void WriteWithHeaders(ReadOnlySpan<PacketBuffer> packets)
    {
        while (!packets.IsEmpty)
        {
            var chunk = packets[..Math.Min(packets.Length, _coalescer.Capacity)];
            packets = packets[chunk.Length..];
            var valid = true;
            foreach (var packet in chunk)
            {
                valid &= (uint)packet.Offset <= (uint)packet.Data.Length && (uint)packet.Length <= (uint)(packet.Data.Length - packet.Offset);
            }

            if (!valid || !_coalesce)
            {
                foreach (var packet in chunk)
                {
                    WriteWithEmptyHeader(packet);
                }

                continue;
            }

            _coalescer.Plan(chunk);
            for (var g = 0; g < _coalescer.GroupCount; g++)
            {
                WriteGroup(chunk, g);
            }
        }
    }

    private void WriteGroup(ReadOnlySpan<PacketBuffer> packets, int group)
    {
        var header = _coalescer.Finish(packets, group);
        var bytes = stackalloc byte[VirtioNetHeader.Size];
        header.Write(new Span<byte>(bytes, VirtioNetHeader.Size));
        var iov = stackalloc IoVec[TcpCoalescer.MaxSegments + 1];
        iov[0] = new IoVec { Base = bytes, Length = VirtioNetHeader.Size };
        var head = packets[_coalescer.Head(group)];
        iov[1] = new IoVec { Base = PinnedData.Pointer(head) + head.Offset, Length = (nuint)head.Length };
        var count = 2;
        for (var i = _coalescer.Next(_coalescer.Head(group)); i >= 0; i = _coalescer.Next(i))
        {
            var member = packets[i];
            var skip = TcpCoalescer.PayloadOffset(member.Packet);
            iov[count++] = new IoVec { Base = PinnedData.Pointer(member) + member.Offset + skip, Length = (nuint)(member.Length - skip) };
        }

        var errno = WriteVector(iov, count);
        if (errno != 0 && _coalescer.Count(group) > 1)
        {
            // A kernel that refuses our super-packets gets single packets from now on.
            _coalesce = false;
        }
    }

    private void WriteWithEmptyHeader(PacketBuffer packet)
    {
        if ((uint)packet.Offset > (uint)packet.Data.Length || (uint)packet.Length > (uint)(packet.Data.Length - packet.Offset))
        {
            CountWriteError(Errno.EINVAL);
            return;
        }

        var bytes = stackalloc byte[VirtioNetHeader.Size];
        default(VirtioNetHeader).Write(new Span<byte>(bytes, VirtioNetHeader.Size));
        var iov = stackalloc IoVec[2];
        iov[0] = new IoVec { Base = bytes, Length = VirtioNetHeader.Size };
        iov[1] = new IoVec { Base = PinnedData.Pointer(packet) + packet.Offset, Length = (nuint)packet.Length };
        WriteVector(iov, 2);
    }

    /// <summary>One writev, retried on EINTR; a refusal is counted, not thrown, so one bad packet does not stop the batch.</summary>
    private int WriteVector(IoVec* iov, int count)
    {
        while (Libc.writev(_tun.Value, iov, count) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                CountWriteError(errno);
                return errno;
            }
        }

        return 0;
    }
}
