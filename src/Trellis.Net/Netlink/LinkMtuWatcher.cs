using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Trellis.Net.Netlink;

/// <summary>
/// Follows one interface's MTU as others change it (<c>ip link set IF mtu N</c>, as wg-quick does):
/// a thread of its own reads rtnetlink link notifications (RTMGRP_LINK) and reports each new MTU of
/// that interface, so the data path reads a field instead of asking the kernel per packet. The
/// socket joins the network namespace of the thread that constructs the watcher.
/// </summary>
internal sealed unsafe class LinkMtuWatcher : IDisposable
{
    private const uint RtmgrpLink = 1;
    private const ushort RtmNewLink = 16;
    private const ushort IflaMtu = 4;
    private const int HeaderSize = 16; // nlmsghdr
    private const int InfoSize = 16; // ifinfomsg
    private const int BufferSize = 32 * 1024;

    private readonly FileDescriptor _socket;
    private readonly FileDescriptor _wake;
    private readonly int _index;
    private readonly string _name;
    private readonly Action<int> _changed;
    private readonly Thread _thread;
    private volatile bool _stopping;

    /// <param name="name">The interface, for re-reading its MTU when notifications were lost.</param>
    /// <param name="changed">Called on the watcher's thread with each MTU the interface reports.</param>
    public LinkMtuWatcher(string name, Action<int> changed)
    {
        _name = name;
        _changed = changed;
        _index = InterfaceName.Index(name);
        var fd = Libc.socket(NetlinkInterop.AF_NETLINK, NetlinkInterop.SOCK_RAW | Libc.SOCK_CLOEXEC, NetlinkInterop.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("socket(AF_NETLINK, NETLINK_ROUTE) for link notifications");
        }

        _socket = new FileDescriptor(fd);
        try
        {
            var local = new SockAddrNl { Family = NetlinkInterop.AF_NETLINK, Groups = RtmgrpLink };
            if (Libc.bind(fd, &local, (uint)sizeof(SockAddrNl)) != 0)
            {
                throw ErrnoException.FromLastError("bind netlink socket to RTMGRP_LINK");
            }

            var wake = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            if (wake < 0)
            {
                throw ErrnoException.FromLastError("eventfd");
            }

            _wake = new FileDescriptor(wake);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }

        _thread = new Thread(Run) { IsBackground = true, Name = "trellis-link-mtu" };
        _thread.Start();
    }

    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        if (_wake.TryAcquire())
        {
            ulong one = 1;
            _ = Libc.write(_wake.Value, &one, sizeof(ulong));
            _wake.Release();
        }

        if (Thread.CurrentThread != _thread)
        {
            _thread.Join();
        }

        _socket.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        var buffer = new byte[BufferSize];
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = _socket.Value, Events = Libc.POLLIN };
        fds[1] = new PollFd { Fd = _wake.Value, Events = Libc.POLLIN };
        while (!_stopping)
        {
            if (Libc.poll(fds, 2, -1) < 0)
            {
                if (Marshal.GetLastPInvokeError() == Errno.EINTR)
                {
                    continue;
                }

                return;
            }

            if (fds[1].Revents != 0 || _stopping)
            {
                return;
            }

            nint n;
            fixed (byte* p = buffer)
            {
                n = NetlinkInterop.recvfrom(_socket.Value, p, BufferSize, Libc.MSG_DONTWAIT, null, null);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.ENOBUFS)
                {
                    // The kernel dropped notifications: ask for the MTU instead.
                    ReadMtuDirectly();
                }
                else if (errno is not (Errno.EINTR or Errno.EAGAIN))
                {
                    return;
                }

                continue;
            }

            Parse(buffer.AsSpan(0, (int)n));
        }
    }

    private void ReadMtuDirectly()
    {
        try
        {
            _changed(InterfaceName.GetMtu(_name));
        }
        catch (ErrnoException)
        {
            // The interface is gone; nothing left to follow.
        }
    }

    /// <summary>Walks the datagram's messages; an RTM_NEWLINK of our interface with IFLA_MTU reports it.</summary>
    private void Parse(ReadOnlySpan<byte> data)
    {
        while (data.Length >= HeaderSize)
        {
            var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data);
            if (length < HeaderSize || length > data.Length)
            {
                return;
            }

            var message = data[..length];
            var type = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
            if (type == RtmNewLink && length >= HeaderSize + InfoSize
                && BinaryPrimitives.ReadInt32LittleEndian(message[(HeaderSize + 4)..]) == _index)
            {
                ReportMtu(message[(HeaderSize + InfoSize)..]);
            }

            data = data[Math.Min(data.Length, Align(length))..];
        }
    }

    private void ReportMtu(ReadOnlySpan<byte> attributes)
    {
        while (attributes.Length >= 4)
        {
            var length = BinaryPrimitives.ReadUInt16LittleEndian(attributes);
            var type = BinaryPrimitives.ReadUInt16LittleEndian(attributes[2..]);
            if (length < 4 || length > attributes.Length)
            {
                return;
            }

            if ((type & 0x3fff) == IflaMtu && length >= 8)
            {
                _changed((int)BinaryPrimitives.ReadUInt32LittleEndian(attributes[4..]));
                return;
            }

            attributes = attributes[Math.Min(attributes.Length, Align(length))..];
        }
    }

    private static int Align(int length) => (length + 3) & ~3;
}
