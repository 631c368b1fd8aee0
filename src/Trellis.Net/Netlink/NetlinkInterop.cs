using System.Runtime.InteropServices;

namespace Trellis.Net.Netlink;

/// <summary>
/// The socket calls the netlink client needs beyond <see cref="Libc"/>, and the netlink socket
/// constants. Kept apart from Libc so this folder does not edit the data path's interop.
/// </summary>
internal static unsafe partial class NetlinkInterop
{
    private const string Lib = "libc";

    public const int AF_NETLINK = 16;
    public const int SOCK_RAW = 3;
    public const int NETLINK_ROUTE = 0;

    public const int SOL_NETLINK = 270;
    public const int NETLINK_CAP_ACK = 10;
    public const int NETLINK_EXT_ACK = 11;
    public const int NETLINK_GET_STRICT_CHK = 12;

    public const int SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD: a 64-bit timeval on 64-bit Linux
    public const int MSG_TRUNC = 0x20;

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint sendto(int fd, void* buffer, nuint length, int flags, void* address, uint addressLength);

    [LibraryImport(Lib, SetLastError = true)]
    public static partial nint recvfrom(int fd, void* buffer, nuint length, int flags, void* address, uint* addressLength);
}

[StructLayout(LayoutKind.Sequential)]
internal struct SockAddrNl
{
    public ushort Family;
    public ushort Pad;
    public uint PortId; // 0 is the kernel
    public uint Groups;
}

[StructLayout(LayoutKind.Sequential)]
internal struct TimeVal
{
    public long Seconds;
    public long Microseconds;
}
