using System.Runtime.InteropServices;
using Trellis.Core.Transport;
using Trellis.Net.Netlink;

namespace Trellis.Net;

/// <summary>
/// A Linux TUN device (layer 3, no packet-information header) as an <see cref="ITun"/>. Like
/// wireguard-go it only creates the interface and sets its MTU; addresses, routes and link state are
/// left to the user's tools. The device is not persistent: it disappears when this object closes.
/// </summary>
public sealed unsafe partial class LinuxTun : ITun
{
    public const int DefaultMtu = 1420;
    public const int DefaultBatchSize = 128;
    public const int MinMtu = 68;
    public const int MaxMtu = 65535;

    private const string CloneDevice = "/dev/net/tun";

    private readonly FileDescriptor _tun;
    private readonly FileDescriptor _wake; // an eventfd Close() writes to, so a reader blocked in poll(2) returns
    private readonly LinkMtuWatcher _mtuWatcher;
    private volatile bool _closed;
    private int _mtu;
    private long _writeErrors;
    private int _lastWriteErrno;

    /// <summary>
    /// Creates the TUN interface <paramref name="name"/> (a "%d" in it lets the kernel number it) and sets its MTU.
    /// <paramref name="offload"/> asks for checksum and segmentation offloads (null: on unless
    /// <see cref="OffloadVariable"/> is 0); a kernel that refuses them gets a plain TUN.
    /// </summary>
    public LinuxTun(string name, int mtu = DefaultMtu, bool? offload = null)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
        {
            throw new PlatformNotSupportedException("LinuxTun needs Linux /dev/net/tun with 64-bit structure layouts");
        }

        InterfaceName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, MinMtu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, MaxMtu);

        _tun = OpenCloneDevice();
        try
        {
            Name = Attach(_tun.Value, name, offload ?? OffloadFromEnvironment(), out _vnetHeader);
            if (_vnetHeader)
            {
                Offloads = EnableOffloads(_tun.Value);
            }

            SetMtu(mtu);

            // An MTU set from outside (wg-quick sets it after start-up) must reach padding at once.
            _mtuWatcher = new LinkMtuWatcher(Name, changed => Volatile.Write(ref _mtu, changed));
            var wake = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
            if (wake < 0)
            {
                throw ErrnoException.FromLastError("eventfd");
            }

            _wake = new FileDescriptor(wake);
        }
        catch
        {
            _mtuWatcher?.Dispose();
            _tun.Dispose();
            throw;
        }
    }

    public string Name { get; }

    /// <summary>The interface's MTU now, including changes made by others (followed through link notifications).</summary>
    public int Mtu => Volatile.Read(ref _mtu);

    public int BatchSize => DefaultBatchSize;

    /// <summary>Packets the kernel refused on write (malformed, unsupported, device down).</summary>
    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    /// <summary>The errno of the most recent refused write, for diagnostics (0 if none).</summary>
    public int LastWriteErrno => Volatile.Read(ref _lastWriteErrno);

    /// <summary>Whether the kernel still has the interface (false after Close, or after someone deleted the link).</summary>
    public bool Exists => InterfaceName.Exists(Name);

    public static LinuxTun Create(string name, int mtu = DefaultMtu, bool? offload = null) => new(name, mtu, offload);

    /// <summary>Whether a network interface of that name exists now.</summary>
    public static bool InterfaceExists(string name) => InterfaceName.Exists(name);

    /// <summary>Sets the interface MTU (SIOCSIFMTU); the link may be up.</summary>
    public void SetMtu(int mtu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, MinMtu);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(mtu, MaxMtu);
        ObjectDisposedException.ThrowIf(_closed, this);
        InterfaceName.SetMtu(Name, mtu);
        Volatile.Write(ref _mtu, mtu);
    }

    public int Read(Span<PacketBuffer> packets, int offset)
    {
        if (packets.IsEmpty)
        {
            throw new ArgumentException("need at least one buffer", nameof(packets));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(offset, PacketBuffer.Capacity);
        if (_closed || !_tun.TryAcquire())
        {
            return 0;
        }

        if (!_wake.TryAcquire())
        {
            _tun.Release();
            return 0;
        }

        try
        {
            var max = Math.Min(packets.Length, DefaultBatchSize);
            while (true)
            {
                // Drain first: under load the next packet is usually already queued and poll is wasted.
                var count = _vnetHeader ? DrainWithHeaders(packets[..max], offset) : Drain(packets[..max], offset);
                if (count > 0)
                {
                    return count;
                }

                if (!WaitReadable())
                {
                    return 0;
                }
            }
        }
        finally
        {
            _wake.Release();
            _tun.Release();
        }
    }

    public void Write(ReadOnlySpan<PacketBuffer> packets)
    {
        if (_closed || !_tun.TryAcquire())
        {
            throw new ObjectDisposedException(nameof(LinuxTun), $"TUN device {Name} is closed");
        }

        try
        {
            if (_vnetHeader)
            {
                WriteWithHeaders(packets);
                return;
            }

            foreach (var packet in packets)
            {
                WriteOne(packet);
            }
        }
        finally
        {
            _tun.Release();
        }
    }

    public void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (_wake.TryAcquire())
        {
            ulong one = 1;
            _ = Libc.write(_wake.Value, &one, sizeof(ulong));
            _wake.Release();
        }

        _mtuWatcher.Dispose();

        // Closing the last descriptor of a non-persistent TUN unregisters the interface.
        _tun.Dispose();
        _wake.Dispose();
    }

    public void Dispose() => Close();

    /// <summary>Reads whatever is queued without blocking; 0 when nothing is.</summary>
    private int Drain(Span<PacketBuffer> packets, int offset)
    {
        var count = 0;
        while (count < packets.Length)
        {
            var buffer = packets[count];
            var n = Libc.read(_tun.Value, PinnedData.Pointer(buffer) + offset, (nuint)(buffer.Data.Length - offset));
            if (n >= 0)
            {
                buffer.Offset = offset;
                buffer.Length = (int)n;
                count++;
                continue;
            }

            if (!RetryRead(Marshal.GetLastPInvokeError(), count))
            {
                break;
            }
        }

        return count;
    }

    /// <summary>
    /// After a failed read of the TUN, with <paramref name="count"/> packets read before it: true to
    /// read again (EINTR); false to return those (nothing queued, or an error after some packets,
    /// which a persistent one shows again on the next call); otherwise throws.
    /// </summary>
    private bool RetryRead(int errno, int count)
    {
        if (errno == Errno.EINTR)
        {
            return true;
        }

        if (errno == Errno.EAGAIN || count > 0)
        {
            return false;
        }

        throw errno == Errno.EBADFD
            ? new ErrnoException($"read from TUN {Name}", errno, "the interface was deleted")
            : new ErrnoException($"read from TUN {Name}", errno);
    }

    /// <summary>Blocks until the TUN has a packet (or an error to report); false when woken by Close.</summary>
    private bool WaitReadable()
    {
        var fds = stackalloc PollFd[2];
        fds[0] = new PollFd { Fd = _tun.Value, Events = Libc.POLLIN };
        fds[1] = new PollFd { Fd = _wake.Value, Events = Libc.POLLIN };
        while (true)
        {
            if (_closed)
            {
                return false;
            }

            if (Libc.poll(fds, 2, -1) >= 0)
            {
                // Any event on the TUN, including POLLERR after the link was deleted, goes to read(2).
                return fds[1].Revents == 0 && !_closed;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                throw new ErrnoException($"poll on TUN {Name}", errno);
            }
        }
    }

    private void WriteOne(PacketBuffer packet)
    {
        if ((uint)packet.Offset > (uint)packet.Data.Length || (uint)packet.Length > (uint)(packet.Data.Length - packet.Offset))
        {
            CountWriteError(Errno.EINVAL);
            return;
        }

        while (true)
        {
            var n = Libc.write(_tun.Value, PinnedData.Pointer(packet) + packet.Offset, (nuint)packet.Length);
            if (n >= 0)
            {
                return;
            }

            var errno = Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                // One bad packet (EINVAL), a down link (EIO) or a full queue must not stop the batch.
                CountWriteError(errno);
                return;
            }
        }
    }

    private void CountWriteError(int errno)
    {
        Volatile.Write(ref _lastWriteErrno, errno);
        Interlocked.Increment(ref _writeErrors);
    }

    private static FileDescriptor OpenCloneDevice()
    {
        var path = "/dev/net/tun\0"u8; // CloneDevice, NUL-terminated
        int fd;
        fixed (byte* p = path)
        {
            fd = Libc.open(p, Libc.O_RDWR | Libc.O_NONBLOCK | Libc.O_CLOEXEC);
        }

        if (fd < 0)
        {
            throw ErrnoException.FromLastError($"open {CloneDevice}", "TUN needs the tun module and CAP_NET_ADMIN");
        }

        return new FileDescriptor(fd);
    }

    /// <summary>
    /// TUNSETIFF: creates the interface (or attaches to an existing persistent one) and returns its
    /// actual name; with <paramref name="vnetHeader"/> it asks for a virtio-net header on every packet,
    /// and falls back to none if the kernel refuses it.
    /// </summary>
    private static string Attach(int fd, string name, bool vnetHeader, out bool withHeader)
    {
        IfReq request = default;
        InterfaceName.Write(name, ref request);
        request.Flags = (short)(Libc.IFF_TUN | Libc.IFF_NO_PI | (vnetHeader ? Libc.IFF_VNET_HDR : 0));
        withHeader = vnetHeader;
        var failed = Libc.ioctl(fd, Libc.TUNSETIFF, &request) != 0;
        var errno = failed ? Marshal.GetLastPInvokeError() : 0;
        if (failed && vnetHeader && errno == Errno.EINVAL)
        {
            // A kernel without IFF_VNET_HDR (or a persistent device made without it): a plain TUN.
            request.Flags = Libc.IFF_TUN | Libc.IFF_NO_PI;
            withHeader = false;
            failed = Libc.ioctl(fd, Libc.TUNSETIFF, &request) != 0;
            errno = failed ? Marshal.GetLastPInvokeError() : 0;
        }

        if (failed)
        {
            var hint = errno switch
            {
                Errno.EPERM or Errno.EACCES => "creating a TUN interface needs CAP_NET_ADMIN",
                Errno.EBUSY => "an interface of that name exists and is in use",
                Errno.EINVAL => "an interface of that name exists and is not a TUN device",
                _ => null,
            };
            throw new ErrnoException($"TUNSETIFF {name}", errno, hint);
        }

        return InterfaceName.Read(ref request);
    }
}
