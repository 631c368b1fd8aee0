using System.Runtime.InteropServices;

namespace Trellis.Net;

/// <summary>
/// One bound UDP socket of a <see cref="UdpBind"/>: created dual-stack when the host has IPv6, else
/// IPv4-only. Its descriptor is reference-counted so Close can run while another thread is blocked in it.
/// </summary>
internal sealed unsafe class UdpSocket
{
    /// <summary>Socket buffers asked for, as wireguard-go does: enough to absorb bursts at several Gbit/s.</summary>
    public const int BufferSize = 7 << 20;

    private volatile bool _closed;

    private UdpSocket(FileDescriptor fd, int family, ushort port)
    {
        Fd = fd;
        Family = family;
        Port = port;
    }

    public FileDescriptor Fd { get; }

    /// <summary>AF_INET6 (dual-stack) or AF_INET.</summary>
    public int Family { get; }

    public ushort Port { get; }

    /// <summary>Set before the shutdown that wakes a blocked receiver, so the receiver can tell a wake-up from a datagram.</summary>
    public bool IsClosed => _closed;

    public static UdpSocket Open(ushort port, bool dualStack)
    {
        if (dualStack && TryOpen(Libc.AF_INET6, port) is { } socket)
        {
            return socket;
        }

        return TryOpen(Libc.AF_INET, port) ?? throw new ErrnoException("socket(AF_INET, SOCK_DGRAM)", Errno.EAFNOSUPPORT);
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
    private static UdpSocket? TryOpen(int family, ushort port)
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
            SetBuffer(raw, Libc.SO_RCVBUFFORCE, Libc.SO_RCVBUF);
            SetBuffer(raw, Libc.SO_SNDBUFFORCE, Libc.SO_SNDBUF);

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

            return new UdpSocket(fd, family, SockAddr.Swap(address.Port));
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

    /// <summary>The FORCE variant passes rmem_max/wmem_max when we are privileged; the plain one is capped by them.</summary>
    private static void SetBuffer(int fd, int force, int plain)
    {
        var size = BufferSize;
        if (Libc.setsockopt(fd, Libc.SOL_SOCKET, force, &size, sizeof(int)) != 0)
        {
            // Best effort: an unprivileged socket just gets the sysctl maximum.
            _ = Libc.setsockopt(fd, Libc.SOL_SOCKET, plain, &size, sizeof(int));
        }
    }
}
