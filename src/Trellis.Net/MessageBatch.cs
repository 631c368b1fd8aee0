using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// The mmsghdr, iovec and sockaddr arrays for one recvmmsg/sendmmsg batch, allocated once on the
/// pinned heap and linked to each other once, so a batch only rewrites buffer pointers and lengths.
/// </summary>
internal sealed unsafe class MessageBatch
{
    // Kept only so the pinned arrays live as long as the batch; all access goes through the pointers.
    private readonly MMsgHdr[] _headerArray;
    private readonly IoVec[] _iovArray;
    private readonly SockAddrIn6[] _addressArray;
    private readonly byte[] _controlArray;

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

    /// <summary>The kernel's source address length for message <paramref name="i"/> (0 for the wake-up after shutdown).</summary>
    public uint ReceivedNameLength(int i) => _headers[i].Header.NameLength;

    /// <summary>Points message <paramref name="i"/> at a buffer's packet and destination; false if the socket can't send there.</summary>
    public bool TryPrepareSend(int i, PacketBuffer buffer, int family)
    {
        // A bad Offset/Length must not become a pointer the kernel reads past the array.
        if ((uint)buffer.Offset > (uint)buffer.Data.Length || (uint)buffer.Length > (uint)(buffer.Data.Length - buffer.Offset))
        {
            return false;
        }

        if (!SockAddr.TryWrite(buffer.Endpoint, family, &_addresses[i], out var nameLength))
        {
            return false;
        }

        _iovs[i].Base = PinnedData.Pointer(buffer) + buffer.Offset;
        _iovs[i].Length = (nuint)buffer.Length;
        _headers[i].Header.NameLength = nameLength;
        var controlLength = PacketInfo.Write(Control(i), buffer.Local, buffer.Endpoint, family);
        _headers[i].Header.Control = controlLength == 0 ? null : Control(i);
        _headers[i].Header.ControlLength = (nuint)controlLength;
        _headers[i].Header.Flags = 0;
        _headers[i].Length = 0;
        return true;
    }

    /// <summary>Whether message <paramref name="i"/> asks for a source address.</summary>
    public bool HasSource(int i) => _headers[i].Header.ControlLength != 0;

    /// <summary>
    /// Lets the kernel choose the source of message <paramref name="i"/> and of every later one (up to
    /// <paramref name="count"/>) that asked for the same source: that address is no longer ours.
    /// </summary>
    public void ForgetSource(int i, int count)
    {
        var gone = new ReadOnlySpan<byte>(Control(i), PacketInfo.ControlSize);
        var length = _headers[i].Header.ControlLength;
        for (var j = count - 1; j >= i; j--)
        {
            if (_headers[j].Header.ControlLength == length && new ReadOnlySpan<byte>(Control(j), (int)length).SequenceEqual(gone[..(int)length]))
            {
                _headers[j].Header.Control = null;
                _headers[j].Header.ControlLength = 0;
            }
        }
    }

    private byte* Control(int i) => _controls + (i * PacketInfo.ControlSize);
}
