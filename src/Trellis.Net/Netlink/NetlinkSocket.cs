using System.Runtime.InteropServices;

namespace Trellis.Net.Netlink;

/// <summary>Receives each reply message of a request, before its acknowledgement.</summary>
internal delegate void NetlinkReplyHandler(NetlinkMessage message);

/// <summary>How a request ended: errno 0 for an acknowledgement, with the kernel's extended-ack text if it sent one.</summary>
internal readonly record struct NetlinkResult(int Errno, string? KernelMessage, bool Interrupted);

/// <summary>
/// An AF_NETLINK socket speaking to the kernel's routing subsystem: one request at a time (the caller
/// serialises), replies matched by sequence number, a fixed receive buffer. The socket belongs to the
/// network namespace of the thread that opened it, whichever thread uses it later.
/// </summary>
internal sealed unsafe class NetlinkSocket : IDisposable
{
    /// <summary>
    /// The kernel fills dump datagrams up to the largest read size it has seen (capped near 32 KiB);
    /// 64 KiB also holds a single oversized message, such as a link with many attributes.
    /// </summary>
    public const int ReceiveBufferSize = 64 * 1024;

    private readonly FileDescriptor _fd;
    private readonly byte[] _receive = new byte[ReceiveBufferSize];
    private readonly TimeSpan _timeout;
    private uint _sequence;

    public NetlinkSocket(TimeSpan timeout)
    {
        _timeout = timeout;
        var fd = Libc.socket(NetlinkInterop.AF_NETLINK, NetlinkInterop.SOCK_RAW | Libc.SOCK_CLOEXEC, NetlinkInterop.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError("socket(AF_NETLINK, NETLINK_ROUTE)");
        }

        _fd = new FileDescriptor(fd);
        try
        {
            // Best effort (older kernels lack some): acks without an echo of the request, the kernel's
            // reason text on errors, and dumps filtered in the kernel by the request's header.
            SetOption(NetlinkInterop.SOL_NETLINK, NetlinkInterop.NETLINK_CAP_ACK, 1);
            SetOption(NetlinkInterop.SOL_NETLINK, NetlinkInterop.NETLINK_EXT_ACK, 1);
            SetOption(NetlinkInterop.SOL_NETLINK, NetlinkInterop.NETLINK_GET_STRICT_CHK, 1);

            // The kernel always answers; the timeout only keeps a daemon from hanging on a bug.
            var tv = new TimeVal { Seconds = (long)timeout.TotalSeconds, Microseconds = timeout.Microseconds + (timeout.Milliseconds * 1000L) };
            if (Libc.setsockopt(fd, Libc.SOL_SOCKET, NetlinkInterop.SO_RCVTIMEO, &tv, (uint)sizeof(TimeVal)) != 0)
            {
                throw ErrnoException.FromLastError("setsockopt(SO_RCVTIMEO) on a netlink socket");
            }

            var local = new SockAddrNl { Family = NetlinkInterop.AF_NETLINK };
            if (Libc.bind(fd, &local, (uint)sizeof(SockAddrNl)) != 0)
            {
                throw ErrnoException.FromLastError("bind netlink socket");
            }
        }
        catch
        {
            _fd.Dispose();
            throw;
        }
    }

    /// <summary>Datagrams read so far; tests use it to see that a dump really came in several parts.</summary>
    public long DatagramsReceived { get; private set; }

    /// <summary>
    /// Sends a request and reads until it is answered: an NLMSG_ERROR (0 is the acknowledgement) or,
    /// for a dump, NLMSG_DONE. Every other reply with the request's sequence goes to <paramref name="onReply"/>.
    /// The request gets a fresh sequence number, so it can be sent again as it is (a dump's retry).
    /// </summary>
    public NetlinkResult Exchange(Span<byte> request, NetlinkReplyHandler? onReply, string operation)
    {
        var sequence = ++_sequence;
        MemoryMarshal.AsRef<NlMsgHdr>(request).Sequence = sequence;
        Send(request, operation);
        var interrupted = false;
        while (true)
        {
            var reader = new NetlinkMessageReader(Receive(operation));
            while (reader.TryRead(out var message))
            {
                if (message.Sequence != sequence)
                {
                    continue; // a late answer to an earlier request that timed out
                }

                interrupted |= (message.Flags & Rtnl.NLM_F_DUMP_INTR) != 0;
                switch (message.Type)
                {
                    case Rtnl.NLMSG_ERROR or Rtnl.NLMSG_DONE:
                        return Completion(message, interrupted);
                    case Rtnl.NLMSG_NOOP or Rtnl.NLMSG_OVERRUN:
                        break;
                    default:
                        onReply?.Invoke(message);
                        break;
                }
            }
        }
    }

    public void Dispose() => _fd.Dispose();

    /// <summary>
    /// Reads the errno (negated in the message) and the extended-ack text. An error carries the
    /// failed request's header (and its payload unless capped) before the TLVs; DONE carries none.
    /// </summary>
    internal static NetlinkResult Completion(NetlinkMessage message, bool interrupted)
    {
        var payload = message.Payload;
        var error = payload.Length >= sizeof(int) ? MemoryMarshal.Read<int>(payload) : 0;
        string? text = null;
        if ((message.Flags & Rtnl.NLM_F_ACK_TLVS) != 0)
        {
            var start = sizeof(int);
            if (message.Type == Rtnl.NLMSG_ERROR && payload.Length >= sizeof(int) + NlMsgHdr.Size)
            {
                var original = MemoryMarshal.Read<NlMsgHdr>(payload[sizeof(int)..]);
                var echoed = (message.Flags & Rtnl.NLM_F_CAPPED) != 0 ? NlMsgHdr.Size : (int)original.Length;
                start += NetlinkWriter.Align(echoed);
            }

            var attributes = new NetlinkAttributeReader(start <= payload.Length ? payload[start..] : default);
            while (attributes.MoveNext())
            {
                if (attributes.Type == Rtnl.NLMSGERR_ATTR_MSG)
                {
                    text = attributes.String();
                }
            }
        }

        return new NetlinkResult(-error, text, interrupted);
    }

    private void SetOption(int level, int name, int value)
    {
        _ = Libc.setsockopt(_fd.Value, level, name, &value, sizeof(int));
    }

    private void Send(ReadOnlySpan<byte> request, string operation)
    {
        var kernel = new SockAddrNl { Family = NetlinkInterop.AF_NETLINK };
        while (true)
        {
            nint n;
            fixed (byte* p = request)
            {
                n = NetlinkInterop.sendto(_fd.Value, p, (nuint)request.Length, 0, &kernel, (uint)sizeof(SockAddrNl));
            }

            if (n == request.Length)
            {
                return;
            }

            var errno = n < 0 ? Marshal.GetLastPInvokeError() : Errno.EINVAL;
            if (errno != Errno.EINTR)
            {
                throw new ErrnoException($"{operation}: send netlink request", errno);
            }
        }
    }

    private ReadOnlySpan<byte> Receive(string operation)
    {
        while (true)
        {
            SockAddrNl from = default;
            var fromLength = (uint)sizeof(SockAddrNl);
            nint n;
            fixed (byte* p = _receive)
            {
                // MSG_TRUNC makes recv report a datagram's full length even when it did not fit.
                n = NetlinkInterop.recvfrom(_fd.Value, p, (nuint)_receive.Length, NetlinkInterop.MSG_TRUNC, &from, &fromLength);
            }

            if (n < 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Errno.EINTR)
                {
                    continue;
                }

                var hint = errno == Errno.EAGAIN ? $"no answer from the kernel within {_timeout.TotalSeconds:0.#} s" : null;
                throw new ErrnoException($"{operation}: receive netlink reply", errno, hint);
            }

            if (from.PortId != 0)
            {
                continue; // only the kernel answers our requests; another process may not inject replies
            }

            if (n > _receive.Length)
            {
                throw new InvalidDataException($"{operation}: a netlink reply of {n} bytes exceeds the {_receive.Length}-byte receive buffer");
            }

            DatagramsReceived++;
            return _receive.AsSpan(0, (int)n);
        }
    }
}
