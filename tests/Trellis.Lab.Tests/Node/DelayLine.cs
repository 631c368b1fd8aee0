using System.Net;
using System.Runtime.InteropServices;
using Trellis.Lab.Tests.PortMapping;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// A one-way delay on a host's IPv6 packets toward one address, made in userspace because the lab's
/// kernel has no netem (tc has no delay without it): a host route sends them into a TUN device, this
/// reads each, holds it for the delay and writes it back, and a rule for what comes out of the TUN
/// routes it to the host's interface as usual (the host forwards IPv6 for it). IPv6 because a packet
/// carrying the host's own source address may be forwarded there; IPv4 drops it as a martian. The
/// host's own traffic toward other addresses, and everything inbound, is untouched. Test
/// infrastructure: each packet is copied once.
/// </summary>
internal sealed partial class DelayLine : IDisposable
{
    private const string Device = "dly0";
    private const string RuleTable = "100";
    private const int O_RDWR = 2;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const nuint TUNSETIFF = 0x400454ca;
    private const short IFF_TUN = 0x0001;
    private const short IFF_NO_PI = 0x1000;
    private const short POLLIN = 0x0001;

    /// <summary>The longest a poll waits, so <see cref="Dispose"/> is noticed.</summary>
    private const int MaxWaitMs = 100;

    private readonly int _fd;
    private readonly long _delayTicks;
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _forwarded;

    private DelayLine(int fd, TimeSpan delay)
    {
        _fd = fd;
        _delayTicks = (long)(delay.TotalSeconds * TimeProvider.System.TimestampFrequency);
        _thread = new Thread(Run) { IsBackground = true, Name = "delay line" };
        _thread.Start();
    }

    /// <summary>Packets held and sent on so far.</summary>
    public long Forwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Delays <paramref name="host"/>'s IPv6 packets to <paramref name="destination"/> by <paramref name="delay"/> until disposed.</summary>
    public static async Task<DelayLine> StartAsync(NatHost host, IPAddress destination, TimeSpan delay)
    {
        var line = new DelayLine(OpenTunIn(host.Namespace), delay);
        try
        {
            var ns = host.Namespace;
            var to = $"{destination}/128";
            (await ns.ExecAsync("sysctl", ["-w", "net.ipv6.conf.all.forwarding=1"], CommandOptions.Default)).EnsureSuccess();
            (await ns.IpAsync("link", "set", Device, "up")).EnsureSuccess();
            (await ns.IpAsync("-6", "route", "add", to, "dev", Device)).EnsureSuccess();
            (await ns.IpAsync("-6", "rule", "add", "iif", Device, "table", RuleTable, "pref", RuleTable)).EnsureSuccess();
            (await ns.IpAsync("-6", "route", "add", to, "dev", NatHost.InterfaceName, "table", RuleTable)).EnsureSuccess();
            return line;
        }
        catch
        {
            line.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        _ = Close(_fd);
    }

    private unsafe void Run()
    {
        var buffer = new byte[65536];
        var held = new Queue<(long Due, byte[] Packet)>();
        var time = TimeProvider.System;
        while (!_stop)
        {
            var wait = MaxWaitMs;
            if (held.TryPeek(out var next))
            {
                wait = (int)Math.Clamp(Math.Ceiling(time.GetElapsedTime(time.GetTimestamp(), next.Due).TotalMilliseconds), 0, MaxWaitMs);
            }

            var request = new PollFd { Fd = _fd, Events = POLLIN };
            _ = Poll(&request, 1, wait);
            fixed (byte* b = buffer)
            {
                nint n;
                while ((n = Read(_fd, b, buffer.Length)) > 0)
                {
                    held.Enqueue((time.GetTimestamp() + _delayTicks, buffer.AsSpan(0, (int)n).ToArray()));
                }
            }

            var now = time.GetTimestamp();
            while (held.TryPeek(out var due) && due.Due <= now)
            {
                var packet = held.Dequeue().Packet;
                fixed (byte* p = packet)
                {
                    _ = Write(_fd, p, packet.Length);
                }

                Interlocked.Increment(ref _forwarded);
            }
        }
    }

    /// <summary>A TUN belongs to the namespace its clone device was opened in: opened from a thread inside it.</summary>
    private static unsafe int OpenTunIn(NetNamespace ns) => InNamespace.Run(ns, () =>
    {
        var tun = Open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (tun < 0)
        {
            throw new InvalidOperationException($"open /dev/net/tun failed with errno {Marshal.GetLastPInvokeError()}");
        }

        var request = new InterfaceRequest { Flags = IFF_TUN | IFF_NO_PI };
        System.Text.Encoding.ASCII.GetBytes(Device).CopyTo(new Span<byte>(request.Name, 16));
        if (Ioctl(tun, TUNSETIFF, &request) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ = Close(tun);
            throw new InvalidOperationException($"TUNSETIFF {Device} failed with errno {errno}");
        }

        return tun;
    });

    [StructLayout(LayoutKind.Sequential, Size = 40)]
    private unsafe struct InterfaceRequest
    {
        public fixed byte Name[16];
        public short Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static unsafe partial int Ioctl(int fd, nuint request, InterfaceRequest* argument);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static unsafe partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static unsafe partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static unsafe partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
