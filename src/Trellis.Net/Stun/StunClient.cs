using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Net.Stun;

/// <summary>Sends one datagram for a <see cref="StunClient"/> that does not read its own socket.</summary>
public delegate ValueTask StunSend(ReadOnlyMemory<byte> datagram, Endpoint destination, CancellationToken cancellationToken);

/// <summary>
/// Asks STUN servers for this socket's public address. Queries share one socket, so asking several
/// servers at once shows whether a NAT gives each destination its own mapping. Either the client
/// reads the socket itself, or (for a socket someone else reads, like the node's WireGuard socket)
/// it sends through a callback and is handed the STUN datagrams with <see cref="HandleDatagram"/>.
/// </summary>
public sealed class StunClient : IAsyncDisposable
{
    private const int ReceiveBufferSize = 2048;

    private readonly StunSend _send;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<StunTransactionId, TaskCompletionSource<Answer>> _pending = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Socket? _socket;
    private readonly bool _ownsSocket;
    private readonly Task _receiveLoop = Task.CompletedTask;
    private int _disposed;

    /// <summary>A client that sends from <paramref name="socket"/> and reads the answers from it itself.</summary>
    public StunClient(Socket socket, bool ownsSocket = false, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(socket);
        _socket = socket;
        _ownsSocket = ownsSocket;
        _time = time ?? TimeProvider.System;
        _send = SendOnSocketAsync;
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(socket, _stop.Token), CancellationToken.None);
    }

    /// <summary>A client whose owner sends for it and passes it the STUN datagrams it receives.</summary>
    public StunClient(StunSend send, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(send);
        _send = send;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The local address of the client's socket; null when it sends through a callback.</summary>
    public IPEndPoint? LocalEndPoint => _socket?.LocalEndPoint as IPEndPoint;

    /// <summary>
    /// A client on a socket of its own, bound to every address of one family on a free port (an
    /// IPv6 socket is IPv6-only, so the two families' mappings stay apart). Throws
    /// <see cref="SocketException"/> when the family is unavailable.
    /// </summary>
    public static StunClient Open(AddressFamily family, TimeProvider? time = null)
    {
        if (family is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "STUN runs over IPv4 or IPv6");
        }

        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (family == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            socket.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0));
            return new StunClient(socket, ownsSocket: true, time);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Offers a received datagram; true when it answered one of this client's queries. Safe to call
    /// with anything: what is not a STUN response of ours is left alone. Answers are matched by their
    /// 96-bit random transaction id alone, not by source, since a server may answer from another address.
    /// </summary>
    public bool HandleDatagram(ReadOnlySpan<byte> datagram, Endpoint source)
    {
        if (!StunMessage.TryParse(datagram, out var message)
            || message.Type is not (StunMessageType.BindingSuccess or StunMessageType.BindingError)
            || !_pending.TryGetValue(message.TransactionId, out var pending))
        {
            return false;
        }

        return pending.TrySetResult(new Answer(message, source, _time.GetTimestamp()));
    }

    /// <summary>Asks one server, retransmitting as <paramref name="options"/> say; a failure is a result, not an exception.</summary>
    public async Task<StunQueryResult> QueryAsync(Endpoint server, StunQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        options ??= StunQueryOptions.Default;
        options.Validate();

        var id = StunTransactionId.NewRandom();
        var pending = new TaskCompletionSource<Answer>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(id, pending))
        {
            throw new InvalidOperationException("transaction id collision"); // 96 random bits: never in practice
        }

        var request = new byte[StunPacket.BindingRequestLength];
        StunPacket.WriteBindingRequest(request, id);
        var started = _time.GetTimestamp();
        try
        {
            var rto = options.InitialRto;
            for (var transmission = 1; ; transmission++)
            {
                try
                {
                    await _send(request, server, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e)
                {
                    return new StunQueryResult { Server = server, Transmissions = transmission, Error = $"cannot send to {server}: {e.Message}" };
                }

                var remaining = options.Timeout - _time.GetElapsedTime(started);
                var last = transmission >= options.MaxTransmissions;
                var wait = last || remaining < rto ? remaining : rto;
                if (await WaitAsync(pending.Task, wait, cancellationToken).ConfigureAwait(false))
                {
                    return Result(server, transmission, pending.Task.Result, started);
                }

                if (last || _time.GetElapsedTime(started) >= options.Timeout)
                {
                    var seconds = options.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
                    return new StunQueryResult { Server = server, Transmissions = transmission, Error = $"no answer from {server} within {seconds} s" };
                }

                rto *= 2;
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Asks every server at once from this client's one socket; results in the order given.</summary>
    public Task<StunQueryResult[]> QueryEachAsync(IEnumerable<Endpoint> servers, StunQueryOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(servers);
        return Task.WhenAll(servers.Select(s => QueryAsync(s, options, cancellationToken)));
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_ownsSocket)
        {
            _socket!.Dispose();
        }

        await _receiveLoop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private StunQueryResult Result(Endpoint server, int transmissions, Answer answer, long started)
    {
        var roundTrip = _time.GetElapsedTime(started, answer.ReceivedTimestamp);
        var message = answer.Message;
        if (message.Type == StunMessageType.BindingError)
        {
            return new StunQueryResult
            {
                Server = server,
                Transmissions = transmissions,
                RoundTripTime = roundTrip,
                ErrorCode = message.ErrorCode,
                Error = $"{server} answered with error {message.ErrorCode?.ToString(CultureInfo.InvariantCulture) ?? "(no code)"} {message.ErrorReason}".TrimEnd(),
            };
        }

        return message.ObservedAddress is { } mapped
            ? new StunQueryResult { Server = server, Transmissions = transmissions, RoundTripTime = roundTrip, MappedEndpoint = mapped }
            : new StunQueryResult { Server = server, Transmissions = transmissions, RoundTripTime = roundTrip, Error = $"{server} answered without a mapped address" };
    }

    /// <summary>True when the answer came within <paramref name="wait"/>; the timer is cancelled either way.</summary>
    private async Task<bool> WaitAsync(Task<Answer> answer, TimeSpan wait, CancellationToken cancellationToken)
    {
        if (wait > TimeSpan.Zero && !answer.IsCompleted)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token);
            var delay = Task.Delay(wait, _time, timer.Token);
            await Task.WhenAny(answer, delay).ConfigureAwait(false);
            await timer.CancelAsync().ConfigureAwait(false);
        }

        if (answer.IsCompleted)
        {
            return true;
        }

        cancellationToken.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        return false;
    }

    private async ValueTask SendOnSocketAsync(ReadOnlyMemory<byte> datagram, Endpoint destination, CancellationToken cancellationToken)
    {
        var socket = _socket!;
        var reachable = destination.IsIPv4
            ? socket.AddressFamily == AddressFamily.InterNetwork || socket.DualMode
            : socket.AddressFamily == AddressFamily.InterNetworkV6;
        if (!reachable)
        {
            throw new SocketException((int)SocketError.AddressFamilyNotSupported);
        }

        await socket.SendToAsync(datagram, SocketFlags.None, destination.ToIPEndPoint(), cancellationToken).ConfigureAwait(false);
    }

    private async Task ReceiveLoopAsync(Socket socket, CancellationToken stop)
    {
        var buffer = new byte[ReceiveBufferSize];
        var from = new SocketAddress(socket.AddressFamily);
        while (!stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await socket.ReceiveFromAsync(buffer, SocketFlags.None, from, stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused
                or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.MessageSize)
            {
                continue; // an ICMP error about an earlier datagram; the query's own timeout covers it
            }
            catch (SocketException)
            {
                return;
            }

            HandleDatagram(buffer.AsSpan(0, length), SocketAddressReader.ToEndpoint(from));
        }
    }

    private readonly record struct Answer(StunMessage Message, Endpoint Source, long ReceivedTimestamp);
}
