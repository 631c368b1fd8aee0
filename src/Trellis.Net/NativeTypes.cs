using System.Runtime.InteropServices;

namespace Trellis.Net;

// Layouts of the kernel/glibc structures for 64-bit Linux; NativeTypesTests pins their sizes.

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoVec
{
    public void* Base;
    public nuint Length;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MsgHdr
{
    public void* Name;
    public uint NameLength;
    public IoVec* Iov;
    public nuint IovLength;
    public void* Control;
    public nuint ControlLength;
    public int Flags;
}

[StructLayout(LayoutKind.Sequential)]
internal struct MMsgHdr
{
    public MsgHdr Header;

    /// <summary>Bytes received or sent for this message, filled in by the kernel.</summary>
    public uint Length;
}

/// <summary>sockaddr_in6; also large enough to hold a sockaddr_in, which the IPv4-only socket uses.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SockAddrIn6
{
    public ushort Family;
    public ushort Port; // network order
    public uint FlowInfo;
    public fixed byte Address[16];
    public uint ScopeId;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SockAddrIn
{
    public ushort Family;
    public ushort Port; // network order
    public fixed byte Address[4];
    public fixed byte Zero[8];
}

[StructLayout(LayoutKind.Sequential)]
internal struct PollFd
{
    public int Fd;
    public short Events;
    public short Revents;
}

/// <summary>struct ifreq: a 16-byte name then a 24-byte union of which we use a short (flags) or an int (MTU).</summary>
[StructLayout(LayoutKind.Explicit, Size = 40)]
internal unsafe struct IfReq
{
    public const int NameSize = 16;

    [FieldOffset(0)]
    public fixed byte Name[NameSize];

    [FieldOffset(16)]
    public short Flags;

    [FieldOffset(16)]
    public int Mtu;
}
