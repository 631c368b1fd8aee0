using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// The mmsghdr, iovec and sockaddr arrays for one recvmmsg/sendmmsg batch, allocated once on the
/// pinned heap, so a batch only rewrites buffer pointers and lengths. A message received or sent
/// plainly has one iovec; a segmented send (UDP_SEGMENT) points one message at the iovecs of all
/// its packets, which never needs more iovecs than the batch has packets.
/// </summary>
internal sealed unsafe class MessageBatch
{
    // Kept only so the pinned arrays live as long as the batch; all access goes through the pointers.
    private readonly MMsgHdr[] _headerArray;
    private readonly IoVec[] _iovArray;
    private readonly SockAddrIn6[] _addressArray;
    private readonly byte[] _controlArray;

    // Where each message's source address (PKTINFO) starts in its control buffer: after a UDP_SEGMENT, if any.
    private readonly int[] _sourceOffsets;

    private readonly MMsgHdr* _headers;
    private readonly IoVec* _iovs;
    private readonly SockAddrIn6* _addresses;
    private readonly byte* _controls;

    public MessageBatch(int size)
    {
        Size = size;
        _headerArray = GC.AllocateArray<MMsgHdr>(size, pinned: true);
        _iovArray = GC.AllocateArray<IoVec>(size, pinned: true);
        _addressArray = GC.AllocateArray<SockAddrIn6>(size, pinned: true);
        _headers = PinnedData.Pointer(_headerArray);
        _iovs = PinnedData.Pointer(_iovArray);
        _addresses = PinnedData.Pointer(_addressArray);
        _controlArray = GC.AllocateArray<byte>(size * PacketInfo.ControlSize, pinned: true);
        _controls = PinnedData.Pointer(_controlArray);
        _sourceOffsets = new int[size];
        for (var i = 0; i < size; i++)
        {
            _headers[i].Header.Iov = &_iovs[i];
            _headers[i].Header.IovLength = 1;
            _headers[i].Header.Name = &_addresses[i];
        }
    }

    public int Size { get; }

    public MMsgHdr* Headers => _headers;

    /// <summary>Points message <paramref name="i"/> at the whole of <paramref name="buffer"/> for receiving.</summary>
    public void PrepareReceive(int i, PacketBuffer buffer)
    {
        _iovs[i].Base = PinnedData.Pointer(buffer);
        _iovs[i].Length = (nuint)buffer.Data.Length;
        _headers[i].Header.Iov = &_iovs[i];
        _headers[i].Header.IovLength = 1;
        _headers[i].Header.NameLength = SockAddr.In6Size;
        _headers[i].Header.Control = Control(i);
        _headers[i].Header.ControlLength = PacketInfo.ControlSize;
        _headers[i].Header.Flags = 0;
        _headers[i].Length = 0;
    }

    /// <summary>Copies what the kernel reported for message <paramref name="i"/> into <paramref name="buffer"/>.</summary>
    public void CompleteReceive(int i, PacketBuffer buffer)
    {
        buffer.Offset = 0;
        buffer.Length = (int)_headers[i].Length;
        buffer.Endpoint = SockAddr.Read(&_addresses[i], _headers[i].Header.NameLength);
        buffer.Local = PacketInfo.Read(Control(i), _headers[i].Header.ControlLength);
    }

    /// <summary>The size of the datagrams the kernel merged into message <paramref name="i"/> (UDP_GRO), 0 for one datagram.</summary>
    public int ReceivedSegmentSize(int i) => UdpSegmentControl.ReadGroSize(Control(i), _headers[i].Header.ControlLength);

    /// <summary>The kernel's source address length for message <paramref name="i"/> (0 for the wake-up after shutdown).</summary>
    public uint ReceivedNameLength(int i) => _headers[i].Header.NameLength;

    /// <summary>
    /// Points message <paramref name="message"/> at the packets of <paramref name="run"/> (one destination,
    /// see <see cref="UdpGsoRun"/>) through iovecs from <paramref name="firstIov"/> on; more than one
    /// packet makes a UDP_SEGMENT send cut at the first packet's size. False if the socket can't send there.
    /// </summary>
    public bool TryPrepareSend(int message, int firstIov, ReadOnlySpan<PacketBuffer> run, int family)
    {
        foreach (var buffer in run)
        {
            // A bad Offset/Length must not become a pointer the kernel reads past the array.
            if (!UdpGsoRun.IsWellFormed(buffer))
            {
                return false;
            }
        }

        var first = run[0];
        if (!SockAddr.TryWrite(first.Endpoint, family, &_addresses[message], out var nameLength))
        {
            return false;
        }

        for (var k = 0; k < run.Length; k++)
        {
            _iovs[firstIov + k].Base = PinnedData.Pointer(run[k]) + run[k].Offset;
            _iovs[firstIov + k].Length = (nuint)run[k].Length;
        }

        var control = Control(message);
        var segment = run.Length > 1 ? UdpSegmentControl.WriteSegmentSize(control, (ushort)first.Length) : 0;
        var controlLength = segment + PacketInfo.Write(control + segment, first.Local, first.Endpoint, family);
        _sourceOffsets[message] = segment;
        _headers[message].Header.Iov = &_iovs[firstIov];
        _headers[message].Header.IovLength = (nuint)run.Length;
        _headers[message].Header.NameLength = nameLength;
        _headers[message].Header.Control = controlLength == 0 ? null : control;
        _headers[message].Header.ControlLength = (nuint)controlLength;
        _headers[message].Header.Flags = 0;
        _headers[message].Length = 0;
        return true;
    }

    /// <summary>Whether message <paramref name="i"/> asks for a source address.</summary>
    public bool HasSource(int i) => (int)_headers[i].Header.ControlLength > _sourceOffsets[i];

    /// <summary>Whether message <paramref name="i"/> is a segmented (UDP_SEGMENT) send.</summary>
    public bool IsSegmented(int i) => _sourceOffsets[i] != 0;

    /// <summary>
    /// Lets the kernel choose the source of message <paramref name="i"/> and of every later one (up to
    /// <paramref name="count"/>) that asked for the same source: that address is no longer ours.
    /// </summary>
    public void ForgetSource(int i, int count)
    {
        var goneLength = (int)_headers[i].Header.ControlLength - _sourceOffsets[i];
        var gone = new ReadOnlySpan<byte>(Control(i) + _sourceOffsets[i], goneLength);
        for (var j = count - 1; j >= i; j--)
        {
            var length = (int)_headers[j].Header.ControlLength - _sourceOffsets[j];
            if (length == goneLength && new ReadOnlySpan<byte>(Control(j) + _sourceOffsets[j], length).SequenceEqual(gone))
            {
                _headers[j].Header.ControlLength = (nuint)_sourceOffsets[j];
                _headers[j].Header.Control = _sourceOffsets[j] == 0 ? null : Control(j);
            }
        }
    }

    private byte* Control(int i) => _controls + (i * PacketInfo.ControlSize);
}
