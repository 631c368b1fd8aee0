using System.Runtime.InteropServices;
using Trellis.Core.Transport;

namespace Trellis.Net;

/// <summary>
/// The plain UDP <see cref="IBind"/>: one dual-stack socket (IPv4 peers travel as v4-mapped IPv6,
/// so one receive loop serves both families), batched with recvmmsg/sendmmsg. With offloads on,
/// a run of same-size packets to one destination leaves as one segmented message (UDP_SEGMENT),
/// except to a destination whose path refused one for a while (<see cref="UnsegmentedPaths"/>), and
/// the kernel may merge received datagrams (UDP_GRO), which Receive splits again. All native
/// structures are allocated once per bind, so steady-state traffic allocates nothing. A receiver
/// with nothing queued waits in poll(2) on the socket and an eventfd, so another thread can wake it
/// (<see cref="WakeReceiver"/>) without a datagram a firewall could drop.
/// </summary>
public sealed unsafe class UdpBind : IWakeableBind
{
    public const int DefaultBatchSize = 128;

    private readonly bool _dualStack;
    private readonly bool _offload;
    private readonly int _bufferSize;
    private readonly TimeProvider _time;

    // Receive is single-threaded by contract; the gate makes a receiver left over from before a
    // reopen finish (it is woken by the close) before the new one reuses the shared batch.
    private readonly Lock _receiveGate = new();
    private readonly MessageBatch _receiveBatch = new(DefaultBatchSize);
    private readonly GroRemainder _remainder = new();
    private readonly GroReadPlan _groPlan = new();
    private readonly Sender[] _senders;

    // An eventfd WakeReceiver writes to; the receiver polls it beside the socket and drains it. Lives as long as the bind.
    private readonly FileDescriptor _wake;

    // Guarded by _openLock: opening, closing, the mark and disposal.
    private readonly Lock _openLock = new();
    private uint _mark;
    private volatile bool _disposed;

    // Read lock-free by the data path; replaced only under _openLock.
    private volatile UdpSocket? _socket;

    private long _sendErrors;
    private long _receiveErrors;
    private int _lastSendErrno;
    private long _sourcesForgotten;
    private long _segmentedSends;
    private long _pathRefusals;
    private long _mergedReceives;

    /// <param name="dualStack">False for an IPv4-only socket, as used when IPv6 is unavailable anyway.</param>
    /// <param name="offload">
    /// UDP segmentation and receive merging where the kernel has them; null reads the offload switch
    /// (<see cref="OffloadSwitch.UdpFromEnvironment"/>: the one that governs the TUN's offloads, and a UDP-only one).
    /// </param>
    /// <param name="bufferSize">Socket buffer bytes; null reads <see cref="UdpBufferSize"/>'s variable.</param>
    /// <param name="time">The clock after which a path that refused segmentation is tried segmented again.</param>
    public UdpBind(bool dualStack = true, bool? offload = null, int? bufferSize = null, TimeProvider? time = null)
    {
        if (!OperatingSystem.IsLinux() || !Environment.Is64BitProcess)
        {
            throw new PlatformNotSupportedException("UdpBind uses Linux recvmmsg/sendmmsg with 64-bit structure layouts");
        }

        _dualStack = dualStack;
        _offload = offload ?? OffloadSwitch.UdpFromEnvironment();
        _bufferSize = bufferSize ?? UdpBufferSize.FromEnvironment();
        _time = time ?? TimeProvider.System;

        // A few independent send batches so encryption workers on several cores do not queue on one lock.
        _senders = new Sender[Math.Clamp(Environment.ProcessorCount, 2, 8)];
        for (var i = 0; i < _senders.Length; i++)
        {
            _senders[i] = new Sender(new MessageBatch(DefaultBatchSize));
        }

        var wake = Libc.eventfd(0, Libc.EFD_CLOEXEC | Libc.EFD_NONBLOCK);
        if (wake < 0)
        {
            throw ErrnoException.FromLastError("eventfd");
        }

        _wake = new FileDescriptor(wake);
    }

    public int BatchSize => DefaultBatchSize;

    public ushort Port => _socket?.Port ?? 0;

    /// <summary>True when the open socket is dual-stack (AF_INET6); false when IPv4-only or closed.</summary>
    public bool IsDualStack => _socket?.Family == Libc.AF_INET6;

    /// <summary>Packets dropped on send: unreachable, buffers full, bad destination or length, or bind closed.</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>Transient receive failures skipped (ICMP errors surfacing, memory pressure).</summary>
    public long ReceiveErrors => Interlocked.Read(ref _receiveErrors);

    /// <summary>Sends retried without their source address because that address was no longer ours.</summary>
    public long SourcesForgotten => Interlocked.Read(ref _sourcesForgotten);

    /// <summary>The errno of the most recent dropped send, for diagnostics (0 if none).</summary>
    public int LastSendErrno => Volatile.Read(ref _lastSendErrno);

    /// <summary>Messages sent with UDP_SEGMENT (each carrying several datagrams).</summary>
    public long SegmentedSends => Interlocked.Read(ref _segmentedSends);

    /// <summary>Received buffers the kernel had merged from several datagrams (UDP GRO), split again.</summary>
    public long MergedReceives => Interlocked.Read(ref _mergedReceives);

    /// <summary>
    /// Whether the open socket sends runs of datagrams as one segmented message (UDP GSO), to every
    /// destination but those whose path refused it (<see cref="PathRefusals"/>).
    /// </summary>
    public bool Segmentation => _socket?.Segmentation ?? false;

    /// <summary>
    /// The errno with which the kernel refused a segmented send on the open socket for a reason of the
    /// socket's own (EIO, EINVAL), after which it sends one datagram per message to everyone; 0 while
    /// none was refused (or segmentation was never on). A path's refusal (EMSGSIZE) does not show here.
    /// </summary>
    public int SegmentationRefusal => _socket?.SegmentationRefusal ?? 0;

    /// <summary>
    /// Segmented sends refused with EMSGSIZE (a segment longer than the destination's path MTU), each
    /// turning segmentation off toward that destination alone for <see cref="UnsegmentedPaths.RetryAfter"/>.
    /// </summary>
    public long PathRefusals => Interlocked.Read(ref _pathRefusals);

    /// <summary>
    /// Raised once per socket and reason, on the sending thread: with EMSGSIZE the first time a path
    /// refuses a segmented send, with <see cref="SegmentationRefusal"/>'s errno when the socket's own
    /// refusal turns segmentation off, so the owner can tell its user (<see cref="DescribeRefusal"/>).
    /// </summary>
    public event Action<int>? SegmentationRefused;

    /// <summary>What the owner tells its user when <see cref="SegmentationRefused"/> is raised with <paramref name="errno"/>.</summary>
    public static string DescribeRefusal(int errno) => errno == Errno.EMSGSIZE
        ? $"UDP segmentation: off toward peers whose path refused a segmented send ({Marshal.GetPInvokeErrorMessage(errno)}, errno {errno}: " +
          $"a segment longer than the path's MTU); sending them one datagram per message, tried segmented again after {UnsegmentedPaths.RetryAfter.TotalMinutes:0} minutes; still segmented to the others"
        : $"UDP segmentation: off, the kernel refused a segmented send ({Marshal.GetPInvokeErrorMessage(errno)}, errno {errno}); sending one datagram per message";

    /// <summary>Whether the open socket lets the kernel merge received datagrams (UDP GRO).</summary>
    public bool ReceiveCoalescing => _socket?.ReceiveCoalescing ?? false;

    /// <summary>The open socket, for tests that set an option under which the kernel refuses segmentation.</summary>
    internal UdpSocket? OpenSocket => _socket;

    public ushort Open(ushort port)
    {
        lock (_openLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            CloseLocked();
            var socket = UdpSocket.Open(port, _dualStack, _offload, _bufferSize, _time);
            try
            {
                // A mark given over UAPI wins; the daemon's underlay mark otherwise.
                var mark = _mark != 0 ? _mark : UnderlayMark.Current;
                if (mark != 0)
                {
                    socket.SetMark(mark);
                }
            }
            catch
            {
                socket.Close();
                throw;
            }

            _socket = socket;
            return socket.Port;
        }
    }

    public void SetMark(uint mark)
    {
        lock (_openLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _socket?.SetMark(mark);
            _mark = mark;
        }
    }

    public void Close()
    {
        lock (_openLock)
        {
            CloseLocked();
        }
    }

    public void Dispose()
    {
        lock (_openLock)
        {
            CloseLocked();
            _disposed = true;
        }

        _wake.Dispose();
    }

    public void WakeReceiver()
    {
        if (!_wake.TryAcquire())
        {
            return;
        }

        try
        {
            // Adds to the eventfd's counter; EAGAIN (the counter is full) means a wake-up is already pending.
            ulong one = 1;
            _ = Libc.write(_wake.Value, &one, sizeof(ulong));
        }
        finally
        {
            _wake.Release();
        }
    }

    public int Receive(Span<PacketBuffer> packets)
    {
        if (packets.IsEmpty)
        {
            throw new ArgumentException("need at least one buffer", nameof(packets));
        }

        using var gate = _receiveGate.EnterScope();
        var socket = _socket;
        if (socket is null || !socket.Fd.TryAcquire())
        {
            return 0;
        }

        try
        {
            if (!_remainder.IsEmpty)
            {
                return _remainder.Drain(packets);
            }

            var batch = _receiveBatch;
            var count = Math.Min(packets.Length, batch.Size);

            // A merged buffer holds up to 64 datagrams, each of which needs a buffer of its own: read
            // only as many messages as the plan expects to split into the span (what overflows is kept).
            var messages = socket.ReceiveCoalescing ? _groPlan.Messages(count) : count;
            while (true)
            {
                for (var i = 0; i < messages; i++)
                {
                    batch.PrepareReceive(i, packets[i]);
                }

                // Takes whatever is queued without blocking; only an empty socket costs the poll below.
                var received = Libc.recvmmsg(socket.Fd.Value, batch.Headers, (uint)messages, Libc.MSG_WAITFORONE | Libc.MSG_DONTWAIT, null);
                if (socket.IsClosed)
                {
                    return 0;
                }

                if (received > 0)
                {
                    for (var i = 0; i < received; i++)
                    {
                        batch.CompleteReceive(i, packets[i]);
                    }

                    return socket.ReceiveCoalescing ? Split(batch, packets[..count], messages, received) : received;
                }

                var errno = received < 0 ? Marshal.GetLastPInvokeError() : Errno.EAGAIN;
                if (errno == Errno.EAGAIN)
                {
                    if (!WaitReadable(socket))
                    {
                        return 0;
                    }

                    continue;
                }

                if (errno == Errno.EINTR)
                {
                    continue;
                }

                if (errno is Errno.ECONNREFUSED or Errno.EHOSTUNREACH or Errno.ENETUNREACH or Errno.ENOMEM or Errno.ENOBUFS)
                {
                    Interlocked.Increment(ref _receiveErrors);
                    continue;
                }

                throw new ErrnoException($"recvmmsg on UDP port {socket.Port}", errno);
            }
        }
        finally
        {
            socket.Fd.Release();
        }
    }

    private int Split(MessageBatch batch, Span<PacketBuffer> packets, int asked, int received)
    {
        Span<int> sizes = stackalloc int[received];
        var merged = 0;
        for (var i = 0; i < received; i++)
        {
            sizes[i] = batch.ReceivedSegmentSize(i);
            merged += UdpGroSplitter.Segments(packets[i].Length, sizes[i]) > 1 ? 1 : 0;
        }

        _groPlan.Observe(asked, received, merged > 0);
        if (merged == 0)
        {
            return received;
        }

        Interlocked.Add(ref _mergedReceives, merged);

        var count = UdpGroSplitter.Split(packets, received, sizes, _remainder, out var dropped);
        if (dropped != 0)
        {
            Interlocked.Add(ref _receiveErrors, dropped);
        }

        return count;
    }

    /// <summary>
    /// Blocks until the socket is readable (a datagram, an error to report, or the shutdown of a
    /// close); false when woken by <see cref="WakeReceiver"/> or closed, with the wake-up consumed.
    /// </summary>
    private bool WaitReadable(UdpSocket socket)
    {
        if (!_wake.TryAcquire())
        {
            return false;
        }

        try
        {
            var fds = stackalloc PollFd[2];
            fds[0] = new PollFd { Fd = socket.Fd.Value, Events = Libc.POLLIN };
            fds[1] = new PollFd { Fd = _wake.Value, Events = Libc.POLLIN };
            while (Libc.poll(fds, 2, -1) < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno != Errno.EINTR)
                {
                    throw new ErrnoException($"poll on UDP port {socket.Port}", errno);
                }
            }

            if (fds[1].Revents != 0)
            {
                ulong count;
                _ = Libc.read(_wake.Value, &count, sizeof(ulong));
                return false;
            }

            return !socket.IsClosed;
        }
        finally
        {
            _wake.Release();
        }
    }

    public void Send(ReadOnlySpan<PacketBuffer> packets)
    {
        if (packets.IsEmpty)
        {
            return;
        }

        var socket = _socket;
        if (socket is null || !socket.Fd.TryAcquire())
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Interlocked.Add(ref _sendErrors, packets.Length);
            return;
        }

        var sender = RentSender();
        try
        {
            while (!packets.IsEmpty)
            {
                var chunk = packets[..Math.Min(packets.Length, sender.Batch.Size)];
                SendBatch(socket, sender.Batch, chunk);
                packets = packets[chunk.Length..];
            }
        }
        finally
        {
            sender.Gate.Exit();
            socket.Fd.Release();
        }
    }

    private void SendBatch(UdpSocket socket, MessageBatch batch, ReadOnlySpan<PacketBuffer> packets)
    {
        var refused = false;
        while (!packets.IsEmpty)
        {
            packets = packets[SendMessages(socket, batch, packets, refused, out refused)..];
        }
    }

    /// <summary>
    /// Sends the packets as messages (a segmented one per run of same-size packets to one place when
    /// the socket and that destination's path allow) and returns how many packets are done: all of
    /// them, unless a segmented send was refused, which turns segmentation off for the socket or that
    /// destination and leaves the rest to send again, <paramref name="refused"/> set. The next call
    /// has <paramref name="firstRefused"/> set: the refused run goes plainly even if the table has
    /// since let its destination go (full, or expired), so every call makes progress.
    /// </summary>
    private int SendMessages(UdpSocket socket, MessageBatch batch, ReadOnlySpan<PacketBuffer> packets, bool firstRefused, out bool refused)
    {
        // Per message: its first packet and how many it carries, so a refused segmented message can
        // be resent from there; and how many packets before it could not be addressed at all.
        Span<int> firsts = stackalloc int[packets.Length];
        Span<int> lengths = stackalloc int[packets.Length];
        Span<int> skippedBefore = stackalloc int[packets.Length + 1];
        var segmentation = socket.Segmentation;
        var paths = socket.UnsegmentedPaths;
        var count = 0;
        var skipped = 0;
        var next = 0;
        refused = false;
        while (next < packets.Length)
        {
            var run = segmentation ? UdpGsoRun.Length(packets[next..]) : 1;

            // A run whose path refused segmentation goes as one message per packet.
            var size = run > 1 && ((next == 0 && firstRefused) || paths.Contains(packets[next].Endpoint)) ? 1 : run;
            for (var end = next + run; next < end; next += size)
            {
                if (batch.TryPrepareSend(count, next, packets.Slice(next, size), socket.Family))
                {
                    skippedBefore[count] = skipped;
                    firsts[count] = next;
                    lengths[count++] = size;
                }
                else
                {
                    skipped += size;
                }
            }
        }

        skippedBefore[count] = skipped;

        // sendmmsg stops at the first failing message and reports how many went before it; the next
        // call then fails on that message alone, which is dropped and counted.
        var start = 0;
        var failed = 0;
        var done = packets.Length;
        while (start < count)
        {
            var sent = Libc.sendmmsg(socket.Fd.Value, batch.Headers + start, (uint)(count - start), Libc.MSG_NOSIGNAL);
            if (sent > 0)
            {
                start += sent;
                continue;
            }

            var errno = sent < 0 ? Marshal.GetLastPInvokeError() : Errno.EAGAIN;
            if (errno == Errno.EINTR)
            {
                continue;
            }

            if (socket.IsClosed)
            {
                for (; start < count; start++)
                {
                    failed += lengths[start];
                }

                break;
            }

            // A message with a source address that is no longer ours (removed or moved) fails with
            // EINVAL (IPv6) or ENETUNREACH (IPv4). As the kernel's WireGuard does, send it again from
            // whatever source routing picks; a destination really unreachable then fails on its own.
            if (errno is Errno.EINVAL or Errno.ENETUNREACH && batch.HasSource(start))
            {
                batch.ForgetSource(start, count);
                Interlocked.Increment(ref _sourcesForgotten);
                continue;
            }

            // Refused. A segment longer than the path's MTU (EMSGSIZE) is that destination's path:
            // only it goes unsegmented, for a while. No checksum offload on the way out (EIO, on
            // kernels that need it), a socket without UDP checksums (EINVAL), or an older kernel's
            // EINVAL for the MTU: segmentation will not work on this socket. Either way the refused
            // message and the rest go again, that one a datagram each, which the kernel fragments
            // if the MTU asks.
            if (errno is Errno.EIO or Errno.EINVAL or Errno.EMSGSIZE && batch.IsSegmented(start))
            {
                var first = errno == Errno.EMSGSIZE
                    ? RefusedByPath(socket, packets[firsts[start]].Endpoint)
                    : socket.DisableSegmentation(errno);
                if (first)
                {
                    SegmentationRefused?.Invoke(errno);
                }

                done = firsts[start];
                skipped = skippedBefore[start];
                refused = true;
                break;
            }

            Volatile.Write(ref _lastSendErrno, errno);
            failed += lengths[start];
            start++;
        }

        var segmented = 0;
        for (var i = 0; i < start; i++)
        {
            segmented += batch.IsSegmented(i) ? 1 : 0;
        }

        if (segmented != 0)
        {
            Interlocked.Add(ref _segmentedSends, segmented);
        }

        if (failed + skipped != 0)
        {
            Interlocked.Add(ref _sendErrors, failed + skipped);
        }

        return done;
    }

    private bool RefusedByPath(UdpSocket socket, Endpoint destination)
    {
        Interlocked.Increment(ref _pathRefusals);
        return socket.DisableSegmentationTo(destination);
    }

    /// <summary>Takes a free send batch, preferring this thread's usual one; waits on it if all are busy.</summary>
    private Sender RentSender()
    {
        var start = (Environment.CurrentManagedThreadId & int.MaxValue) % _senders.Length;
        for (var i = 0; i < _senders.Length; i++)
        {
            var sender = _senders[(start + i) % _senders.Length];
            if (sender.Gate.TryEnter())
            {
                return sender;
            }
        }

        _senders[start].Gate.Enter();
        return _senders[start];
    }

    private void CloseLocked()
    {
        var socket = _socket;
        _socket = null;
        socket?.Close();
    }

    private sealed class Sender(MessageBatch batch)
    {
        public Lock Gate { get; } = new();

        public MessageBatch Batch { get; } = batch;
    }
}
