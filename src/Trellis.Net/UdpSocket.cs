using System.Runtime.InteropServices;
using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// One bound UDP socket of a <see cref="UdpBind"/>: created dual-stack when the host has IPv6, else
/// IPv4-only. Its descriptor is reference-counted so Close can run while another thread is blocked in it.
/// </summary>
internal sealed unsafe class UdpSocket
{
    private volatile bool _closed;
    private volatile bool _segmentation;
    private int _segmentationRefusal;
    private int _pathRefusalReported;

    private UdpSocket(FileDescriptor fd, int family, ushort port, bool segmentation, bool receiveCoalescing, TimeProvider time)
    {
        Fd = fd;
        Family = family;
        Port = port;
        _segmentation = segmentation;
        ReceiveCoalescing = receiveCoalescing;
        UnsegmentedPaths = new UnsegmentedPaths(time);
    }

    public FileDescriptor Fd { get; }

    /// <summary>AF_INET6 (dual-stack) or AF_INET.</summary>
    public int Family { get; }

    public ushort Port { get; }

    /// <summary>Set before the shutdown that wakes a blocked receiver, so the receiver can tell a wake-up from a datagram.</summary>
    public bool IsClosed => _closed;

    /// <summary>
    /// Whether sends may carry UDP_SEGMENT: the kernel knows it and has not refused such a send for a
    /// reason of the socket's own (a path's refusal turns it off only toward that destination).
    /// </summary>
    public bool Segmentation => _segmentation;

    /// <summary>Whether the kernel may merge received datagrams (UDP_GRO), which the receiver must split.</summary>
    public bool ReceiveCoalescing { get; }

    /// <summary>The destinations whose path refused a segmented send, sent one datagram per message for a while.</summary>
    public UnsegmentedPaths UnsegmentedPaths { get; }

    /// <param name="offload">False keeps to one datagram per system-call message both ways (no UDP GSO or GRO).</param>
    /// <param name="time">The clock after which a path that refused segmentation is tried again.</param>
    public static UdpSocket Open(ushort port, bool dualStack, bool offload, int bufferSize, TimeProvider time)
    {
        if (dualStack && TryOpen(Libc.AF_INET6, port, offload, bufferSize, time) is { } socket)
        {
            return socket;
        }

        return TryOpen(Libc.AF_INET, port, offload, bufferSize, time) ?? throw new ErrnoException("socket(AF_INET, SOCK_DGRAM)", Errno.EAFNOSUPPORT);
    }

    /// <summary>The errno of the segmented send that turned segmentation off on this socket; 0 while none was refused.</summary>
    public int SegmentationRefusal => Volatile.Read(ref _segmentationRefusal);

    /// <summary>
    /// Stops segmented sends for good because the kernel refused one with <paramref name="errno"/> for
    /// a reason of the socket's own; true for the one caller that turned them off (the others raced it).
    /// </summary>
    public bool DisableSegmentation(int errno)
    {
        if (Interlocked.CompareExchange(ref _segmentationRefusal, errno, 0) != 0)
        {
            return false;
        }

        _segmentation = false;
        return true;
    }

    /// <summary>
    /// Sends to <paramref name="destination"/> one datagram per message for a while, because its path
    /// refused a segmented send; true the first time on this socket, so the refusal is told once.
    /// </summary>
    public bool DisableSegmentationTo(Endpoint destination)
    {
        UnsegmentedPaths.Add(destination);
        return Interlocked.Exchange(ref _pathRefusalReported, 1) == 0;
    }

    public void SetMark(uint mark)
    {
        if (!Fd.TryAcquire())
        {
            return;
        }

        try
        {
            if (Libc.setsockopt(Fd.Value, Libc.SOL_SOCKET, Libc.SO_MARK, &mark, sizeof(uint)) != 0)
            {
                throw ErrnoException.FromLastError($"setsockopt(SO_MARK, {mark})", "setting a firewall mark needs CAP_NET_ADMIN");
            }
        }
        finally
        {
            Fd.Release();
        }
    }

    /// <summary>Wakes any blocked receive (it returns one empty, nameless message) and closes the socket once unused.</summary>
    public void Close()
    {
        _closed = true;
        if (Fd.TryAcquire())
        {
            // On an unconnected UDP socket this returns ENOTCONN but still marks it shut and wakes waiters.
            _ = Libc.shutdown(Fd.Value, Libc.SHUT_RDWR);
            Fd.Release();
        }

        Fd.Dispose();
    }

    /// <summary>Null when the address family is unavailable on this host (so the caller can fall back).</summary>
    private static UdpSocket? TryOpen(int family, ushort port, bool offload, int bufferSize, TimeProvider time)
    {
        var name = family == Libc.AF_INET6 ? "AF_INET6" : "AF_INET";
        var raw = Libc.socket(family, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, Libc.IPPROTO_UDP);
        if (raw < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == Errno.EAFNOSUPPORT ? null : throw new ErrnoException($"socket({name}, SOCK_DGRAM)", errno);
        }

        var fd = new FileDescriptor(raw);
        try
        {
            if (family == Libc.AF_INET6)
            {
                var off = 0;
                if (Libc.setsockopt(raw, Libc.IPPROTO_IPV6, Libc.IPV6_V6ONLY, &off, sizeof(int)) != 0)
                {
                    throw ErrnoException.FromLastError("setsockopt(IPV6_V6ONLY, 0)");
                }
            }

            ReportDestinations(raw, family);
            SetBuffer(raw, Libc.SO_RCVBUFFORCE, Libc.SO_RCVBUF, bufferSize);
            SetBuffer(raw, Libc.SO_SNDBUFFORCE, Libc.SO_SNDBUF, bufferSize);
            var segmentation = offload && EnableOption(raw, Libc.UDP_SEGMENT, 0);
            var receiveCoalescing = offload && EnableOption(raw, Libc.UDP_GRO, 1);

            SockAddrIn6 address = default; // all-zero = the wildcard address of either family
            address.Family = (ushort)family;
            address.Port = SockAddr.Swap(port);
            var length = family == Libc.AF_INET6 ? SockAddr.In6Size : SockAddr.InSize;
            if (Libc.bind(raw, &address, length) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (family == Libc.AF_INET6 && errno is Errno.EADDRNOTAVAIL or Errno.EAFNOSUPPORT)
                {
                    fd.Dispose();
                    return null;
                }

                var wildcard = family == Libc.AF_INET6 ? "[::]" : "0.0.0.0";
                throw new ErrnoException($"bind UDP {wildcard}:{port}", errno);
            }

            address = default;
            length = SockAddr.In6Size;
            if (Libc.getsockname(raw, &address, &length) != 0)
            {
                throw ErrnoException.FromLastError("getsockname");
            }

            return new UdpSocket(fd, family, SockAddr.Swap(address.Port), segmentation, receiveCoalescing, time);
        }
        catch
        {
            fd.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Asks for each datagram's destination address (IP_PKTINFO / IPV6_PKTINFO), so replies can leave
    /// from the address the peer used. A dual-stack socket reports IPv4 arrivals as IPV6_PKTINFO
    /// with a v4-mapped address; IP_PKTINFO there as well is best effort.
    /// </summary>
    private static void ReportDestinations(int fd, int family)
    {
        var on = 1;
        if (family == Libc.AF_INET6)
        {
            if (Libc.setsockopt(fd, Libc.IPPROTO_IPV6, Libc.IPV6_RECVPKTINFO, &on, sizeof(int)) != 0)
            {
                throw ErrnoException.FromLastError("setsockopt(IPV6_RECVPKTINFO)");
            }

            _ = Libc.setsockopt(fd, Libc.SOL_IP, Libc.IP_PKTINFO, &on, sizeof(int));
            return;
        }

        if (Libc.setsockopt(fd, Libc.SOL_IP, Libc.IP_PKTINFO, &on, sizeof(int)) != 0)
        {
            throw ErrnoException.FromLastError("setsockopt(IP_PKTINFO)");
        }
    }

    /// <summary>
    /// Sets a SOL_UDP option; false when the kernel does not know it. UDP_SEGMENT set to 0 (no default
    /// segment size) is the probe that segmented sends are understood; UDP_GRO 1 turns merging on.
    /// </summary>
    private static bool EnableOption(int fd, int option, int value) =>
        Libc.setsockopt(fd, Libc.SOL_UDP, option, &value, sizeof(int)) == 0;

    /// <summary>The FORCE variant passes rmem_max/wmem_max when we are privileged; the plain one is capped by them.</summary>
    private static void SetBuffer(int fd, int force, int plain, int size)
    {
        if (Libc.setsockopt(fd, Libc.SOL_SOCKET, force, &size, sizeof(int)) != 0)
        {
            // Best effort: an unprivileged socket just gets the sysctl maximum.
            _ = Libc.setsockopt(fd, Libc.SOL_SOCKET, plain, &size, sizeof(int));
        }
    }
}
