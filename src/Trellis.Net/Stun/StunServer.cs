using System.Net;
using System.Net.Sockets;

namespace Trellis.Net.Stun;

/// <summary>
/// A STUN server for Binding only: each Binding Request is answered, with the same transaction id,
/// by the source address it came from (XOR-MAPPED-ADDRESS), SOFTWARE and FINGERPRINT. Requests with
/// comprehension-required attributes it does not know get error 420; anything else is dropped and
/// counted. One socket (dual-stack unless bound to one address) and one receive loop, with its
/// buffers allocated once.
/// </summary>
public sealed class StunServer : IAsyncDisposable
{
    /// <summary>The IANA port for STUN over UDP.</summary>
    public const int DefaultPort = 3478;

    private const int ReceiveBufferSize = 2048;
    private const int ReplyBufferSize = 1024;

    private readonly StunServerOptions _options;
    private readonly Lock _gate = new();
    private Socket? _socket;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    private long _requests;
    private long _answers;
    private long _malformed;
    private long _ignored;
    private long _sendErrors;

    public StunServer(StunServerOptions? options = null)
    {
        _options = options ?? new StunServerOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.Port, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(_options.Port, ushort.MaxValue, nameof(options));
        if (_options.Software is { } software && System.Text.Encoding.UTF8.GetByteCount(software) > StunWriter.MaxSoftwareBytes)
        {
            throw new ArgumentException($"SOFTWARE is at most {StunWriter.MaxSoftwareBytes} bytes", nameof(options));
        }
    }

    /// <summary>The bound UDP port once started (the one chosen when the options asked for 0).</summary>
    public ushort Port { get; private set; }

    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Well-formed Binding Requests received.</summary>
    public long Requests => Interlocked.Read(ref _requests);

    /// <summary>Responses sent (successes and errors).</summary>
    public long Answers => Interlocked.Read(ref _answers);

    /// <summary>Datagrams that looked like STUN but did not parse.</summary>
    public long Malformed => Interlocked.Read(ref _malformed);

    /// <summary>Datagrams that were not STUN, or STUN other than a Binding Request.</summary>
    public long Ignored => Interlocked.Read(ref _ignored);

    /// <summary>Why the server stopped answering on its own (a socket error it cannot go on from); null while it runs.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>Answers the kernel refused to send (unreachable source, full buffers).</summary>
    public long SendErrors => Interlocked.Read(ref _sendErrors);

    /// <summary>Binds the socket (a <see cref="SocketException"/> when it cannot) and starts answering.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (_socket is not null)
            {
                throw new InvalidOperationException("the STUN server is already started");
            }

            var socket = Bind(_options);
            var local = (IPEndPoint)socket.LocalEndPoint!;
            _socket = socket;
            LocalEndPoint = local;
            Port = (ushort)local.Port;
            _stop = new CancellationTokenSource();
            var token = _stop.Token;
            _loop = Task.Run(() => ReceiveLoopAsync(socket, token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    /// <summary>Stops answering and closes the socket; waits for the receive loop to end.</summary>
    public async Task StopAsync()
    {
        Socket? socket;
        CancellationTokenSource? stop;
        Task? loop;
        lock (_gate)
        {
            (socket, stop, loop) = (_socket, _stop, _loop);
            (_socket, _stop, _loop) = (null, null, null);
        }

        if (socket is null)
        {
            return;
        }

        await stop!.CancelAsync().ConfigureAwait(false);
        socket.Dispose();
        await loop!.ConfigureAwait(false);
        stop.Dispose();
    }

    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);

    private static Socket Bind(StunServerOptions options)
    {
        var address = options.Address ?? IPAddress.IPv6Any;
        try
        {
            return BindTo(address, options.Port);
        }
        catch (SocketException e) when (options.Address is null && e.SocketErrorCode is SocketError.AddressFamilyNotSupported or SocketError.AddressNotAvailable)
        {
            // A host without IPv6 still gets an IPv4 server.
            return BindTo(IPAddress.Any, options.Port);
        }
    }

    private static Socket BindTo(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            socket.Bind(new IPEndPoint(address, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken stop)
    {
        var receive = new byte[ReceiveBufferSize];
        var reply = new byte[ReplyBufferSize];
        var from = new SocketAddress(socket.AddressFamily);
        while (!stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await socket.ReceiveFromAsync(receive, SocketFlags.None, from, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (!stop.IsCancellationRequested && e.SocketErrorCode is SocketError.ConnectionReset
                or SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable
                or SocketError.MessageSize or SocketError.NoBufferSpaceAvailable)
            {
                continue; // an ICMP error about an earlier answer, or memory pressure: not fatal
            }
            catch (SocketException e)
            {
                if (!stop.IsCancellationRequested)
                {
                    Failure = e;
                }

                return;
            }

            Answer(socket, receive.AsSpan(0, length), from, reply);
        }
    }

    private void Answer(Socket socket, ReadOnlySpan<byte> packet, SocketAddress from, Span<byte> reply)
    {
        if (!StunPacket.IsStunPacket(packet))
        {
            Interlocked.Increment(ref _ignored);
            return;
        }

        if (!StunMessage.TryParse(packet, out var request))
        {
            Interlocked.Increment(ref _malformed);
            return;
        }

        var source = SocketAddressReader.ToEndpoint(from);
        if (request.Type != StunMessageType.BindingRequest || source.Port == 0)
        {
            Interlocked.Increment(ref _ignored);
            return;
        }

        Interlocked.Increment(ref _requests);
        int length;
        var unknown = request.UnknownComprehensionRequired;
        if (unknown.Count > 0)
        {
            Span<ushort> types = stackalloc ushort[unknown.Count];
            for (var i = 0; i < types.Length; i++)
            {
                types[i] = unknown[i];
            }

            length = StunPacket.WriteBindingError(reply, request.TransactionId, 420, "Unknown Attribute", types, _options.Software);
        }
        else
        {
            length = StunPacket.WriteBindingSuccess(reply, request.TransactionId, source, _options.Software);
        }

        // Counted before it leaves (and taken back if it does not), so whoever holds the answer also sees the count.
        Interlocked.Increment(ref _answers);
        try
        {
            socket.SendTo(reply[..length], SocketFlags.None, from);
        }
        catch (SocketException)
        {
            Interlocked.Decrement(ref _answers);
            Interlocked.Increment(ref _sendErrors);
        }
        catch (ObjectDisposedException)
        {
            Interlocked.Decrement(ref _answers); // stopping
        }
    }
}
