using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Trellis.Net.Netlink;

/// <summary>One message of a received datagram: the header's fields and the payload after it.</summary>
internal readonly ref struct NetlinkMessage
{
    public NetlinkMessage(NlMsgHdr header, ReadOnlySpan<byte> payload)
    {
        Type = header.Type;
        Flags = header.Flags;
        Sequence = header.Sequence;
        Payload = payload;
    }

    public ushort Type { get; }

    public ushort Flags { get; }

    public uint Sequence { get; }

    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>The family header (ifinfomsg, ifaddrmsg, rtmsg); false when the payload is too short for one.</summary>
    public bool TryReadHeader<T>(out T header)
        where T : unmanaged
    {
        return MemoryMarshal.TryRead(Payload, out header);
    }

    /// <summary>The attributes after a family header of type <typeparamref name="T"/>.</summary>
    public NetlinkAttributeReader Attributes<T>()
        where T : unmanaged
    {
        var start = NetlinkWriter.Align(Unsafe.SizeOf<T>());
        return new NetlinkAttributeReader(start <= Payload.Length ? Payload[start..] : default);
    }
}

/// <summary>Walks the messages of one received datagram (a dump packs many into each).</summary>
internal ref struct NetlinkMessageReader
{
    private ReadOnlySpan<byte> _rest;

    public NetlinkMessageReader(ReadOnlySpan<byte> datagram)
    {
        _rest = datagram;
    }

    public bool TryRead(out NetlinkMessage message)
    {
        if (_rest.Length < NlMsgHdr.Size)
        {
            message = default;
            return false;
        }

        var header = MemoryMarshal.Read<NlMsgHdr>(_rest);
        if (header.Length < NlMsgHdr.Size || header.Length > (uint)_rest.Length)
        {
            throw new InvalidDataException($"malformed netlink message: length {header.Length} with {_rest.Length} bytes left in the datagram");
        }

        var length = (int)header.Length;
        message = new NetlinkMessage(header, _rest[NlMsgHdr.Size..length]);
        _rest = _rest[Math.Min(NetlinkWriter.Align(length), _rest.Length)..];
        return true;
    }
}
