namespace Trellis.Net.Netlink;

/// <summary>
/// Configures links, addresses and routes through rtnetlink, as <c>ip</c> does, without running it.
/// Every request asks for an acknowledgement, so a failure surfaces as an <see cref="ErrnoException"/>
/// naming the operation, the interface and the prefix, with the kernel's own reason when it gives one.
/// The socket belongs to the network namespace of the thread that creates this object; all operations
/// act there, from whichever thread they are called. Calls are serialised: one request at a time.
/// </summary>
public sealed partial class RtNetlink : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private const byte AF_UNSPEC = 0;
    private const int RequestBufferSize = 512; // the largest request, a route, is under 100 bytes
    private const int DumpAttempts = 5;

    private readonly Lock _gate = new();
    private readonly NetlinkSocket _socket;
    private readonly byte[] _request = new byte[RequestBufferSize];
    private bool _disposed;

    public RtNetlink()
        : this(DefaultTimeout)
    {
    }

    /// <param name="timeout">How long to wait for the kernel's answer before giving up (it always answers; this guards against bugs).</param>
    public RtNetlink(TimeSpan timeout)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        _socket = new NetlinkSocket(timeout);
    }

    /// <summary>The interface <paramref name="name"/>; throws <see cref="ErrnoException"/> (ENODEV) when there is none.</summary>
    public LinkInfo GetLink(string name) =>
        FindLink(name, $"look up interface {name}", throwIfMissing: true)!;

    /// <summary>The interface <paramref name="name"/>, or null when there is none.</summary>
    public LinkInfo? FindLink(string name) =>
        FindLink(name, $"look up interface {name}", throwIfMissing: false);

    public int GetLinkIndex(string name) => GetLink(name).Index;

    /// <summary>Datagrams received from the kernel so far (for tests of multipart dumps).</summary>
    internal long DatagramsReceived => _socket.DatagramsReceived;

    public void SetLinkUp(string name) => SetLinkFlags(name, up: true);

    public void SetLinkDown(string name) => SetLinkFlags(name, up: false);

    public void SetMtu(string name, int mtu)
    {
        InterfaceName.Validate(name);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mtu);
        lock (_gate)
        {
            var request = Begin(Rtnl.RTM_SETLINK, 0);
            request.Header<IfInfoMsg>();
            request.String(Rtnl.IFLA_IFNAME, name);
            request.UInt32(Rtnl.IFLA_MTU, (uint)mtu);
            Execute(ref request, $"set MTU of {name} to {mtu}", errno => errno == Errno.EINVAL ? "the device does not accept that MTU" : null);
        }
    }

    /// <summary>
    /// Creates a link of a kind that needs no parameters ("dummy", "bridge", "ifb"), left down.
    /// Throws EEXIST when the name is taken, EOPNOTSUPP when the kernel lacks the kind.
    /// </summary>
    public void AddLink(string name, string kind)
    {
        InterfaceName.Validate(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(kind);
        lock (_gate)
        {
            var request = Begin(Rtnl.RTM_NEWLINK, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL);
            request.Header<IfInfoMsg>();
            request.String(Rtnl.IFLA_IFNAME, name);
            var info = request.BeginNested(Rtnl.IFLA_LINKINFO);
            request.String(Rtnl.IFLA_INFO_KIND, kind);
            request.EndNested(info);
            Execute(ref request, $"create {kind} link {name}", errno => errno switch
            {
                NetlinkErrno.EEXIST => "an interface of that name exists",
                NetlinkErrno.EOPNOTSUPP => $"this kernel has no \"{kind}\" link type (module not built or not loaded)",
                _ => null,
            });
        }
    }

    /// <summary>Deletes the interface (RTM_DELLINK by name); a TUN's file stays open but its interface is gone.</summary>
    public void DeleteLink(string name)
    {
        InterfaceName.Validate(name);
        lock (_gate)
        {
            var request = Begin(Rtnl.RTM_DELLINK, 0);
            request.Header<IfInfoMsg>();
            request.String(Rtnl.IFLA_IFNAME, name);
            Execute(ref request, $"delete link {name}", hint: null);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (!_disposed)
            {
                _disposed = true;
                _socket.Dispose();
            }
        }
    }

    private void SetLinkFlags(string name, bool up)
    {
        InterfaceName.Validate(name);
        lock (_gate)
        {
            var request = Begin(Rtnl.RTM_SETLINK, 0);
            ref var link = ref request.Header<IfInfoMsg>();
            link.Flags = up ? Rtnl.IFF_UP : 0;
            link.Change = Rtnl.IFF_UP; // only this bit changes
            request.String(Rtnl.IFLA_IFNAME, name);
            Execute(ref request, $"set {name} {(up ? "up" : "down")}", hint: null);
        }
    }

    private LinkInfo? FindLink(string name, string operation, bool throwIfMissing)
    {
        InterfaceName.Validate(name);
        lock (_gate)
        {
            return LookUpLink(name, operation, throwIfMissing);
        }
    }

    /// <summary>
    /// RTM_GETLINK by name. Addresses and routes resolve their interface this way rather than with
    /// if_nametoindex, which would ask the calling thread's namespace instead of the socket's.
    /// </summary>
    private LinkInfo? LookUpLink(string name, string operation, bool throwIfMissing)
    {
        var request = Begin(Rtnl.RTM_GETLINK, 0);
        request.Header<IfInfoMsg>();
        request.String(Rtnl.IFLA_IFNAME, name);
        request.UInt32(Rtnl.IFLA_EXT_MASK, Rtnl.RTEXT_FILTER_SKIP_STATS);
        LinkInfo? found = null;
        var result = _socket.Exchange(request.Finish(), message => found ??= NetlinkParse.Link(message), operation);
        if (result.Errno == Errno.ENODEV && !throwIfMissing)
        {
            return null;
        }

        Check(result, operation, hint: null);
        return found ?? throw new InvalidDataException($"{operation}: the kernel acknowledged without describing the link");
    }

    private int LinkIndex(string name, string operation) => LookUpLink(name, operation, throwIfMissing: true)!.Index;

    /// <summary>Starts a request in the shared buffer; callers hold the lock.</summary>
    private NetlinkWriter Begin(ushort type, ushort flags)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new NetlinkWriter(_request, type, (ushort)(flags | Rtnl.NLM_F_ACK));
    }

    /// <summary>Starts a dump request (no ack: NLMSG_DONE ends it).</summary>
    private NetlinkWriter BeginDump(ushort type)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new NetlinkWriter(_request, type, Rtnl.NLM_F_DUMP);
    }

    private void Execute(ref NetlinkWriter request, string operation, Func<int, string?>? hint) =>
        Check(_socket.Exchange(request.Finish(), null, operation), operation, hint);

    /// <summary>
    /// Runs a dump, restarting it when the kernel flags it inconsistent (the table changed while it
    /// was being read). <paramref name="restart"/> clears what the handler collected so far.
    /// </summary>
    private void Dump(ref NetlinkWriter request, NetlinkReplyHandler onReply, Action restart, string operation, Func<int, bool>? meansEmpty = null)
    {
        var message = request.Finish();
        for (var attempt = 1; ; attempt++)
        {
            var result = _socket.Exchange(message, onReply, operation);
            if (result.Errno != 0 && meansEmpty?.Invoke(result.Errno) == true)
            {
                restart();
                return;
            }

            Check(result, operation, hint: null);
            if (!result.Interrupted)
            {
                return;
            }

            if (attempt == DumpAttempts)
            {
                throw new ErrnoException(operation, Errno.EAGAIN, $"the kernel's table changed during each of {DumpAttempts} dumps");
            }

            restart();
        }
    }

    /// <summary>Throws for a failed request: our hint for the errno, then the kernel's extended-ack text.</summary>
    private static void Check(NetlinkResult result, string operation, Func<int, string?>? hint)
    {
        if (result.Errno == 0)
        {
            return;
        }

        var ours = hint?.Invoke(result.Errno) ?? CommonHint(result.Errno);
        var kernel = string.IsNullOrEmpty(result.KernelMessage) ? null : $"kernel: {result.KernelMessage}";
        var text = ours is null ? kernel : kernel is null ? ours : $"{ours} ({kernel})";
        throw new ErrnoException(operation, result.Errno, text);
    }

    private static string? CommonHint(int errno) => errno switch
    {
        Errno.EPERM or Errno.EACCES => "changing the network configuration needs CAP_NET_ADMIN",
        Errno.ENODEV => "no interface of that name",
        _ => null,
    };
}
