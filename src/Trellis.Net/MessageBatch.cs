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

    private readonly MMsgHdr* _headers;
    private readonly IoVec* _iovs;
    private readonly SockAddrIn6* _addresses;

    public MessageBatch(int size)
    {
        Size = size;
        _headerArray = GC.AllocateArray<MMsgHdr>(size, pinned: true);
        _iovArray = GC.AllocateArray<IoVec>(size, pinned: true);
        _addressArray = GC.AllocateArray<SockAddrIn6>(size, pinned: true);
        _headers = PinnedData.Pointer(_headerArray);
        _iovs = PinnedData.Pointer(_iovArray);
        _addresses = PinnedData.Pointer(_addressArray);
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
        _headers[i].Header.Flags = 0;
        _headers[i].Length = 0;
    }

    /// <summary>Copies what the kernel reported for message <paramref name="i"/> into <paramref name="buffer"/>.</summary>
    public void CompleteReceive(int i, PacketBuffer buffer)
    {
        buffer.Offset = 0;
        buffer.Length = (int)_headers[i].Length;
        buffer.Endpoint = SockAddr.Read(&_addresses[i], _headers[i].Header.NameLength);
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
        _headers[i].Header.Flags = 0;
        _headers[i].Length = 0;
        return true;
    }
}
