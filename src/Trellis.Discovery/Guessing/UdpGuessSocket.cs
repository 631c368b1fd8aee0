using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// A guess socket on the host's UDP stack: IPv4 on an ephemeral port, read by one pending
/// asynchronous receive (no thread of its own, so a few hundred of them cost no threads).
/// </summary>
public sealed class UdpGuessSocket : IGuessSocket
{
    /// <summary>Room for any datagram a peer sends us (a WireGuard packet of the 1420-byte MTU and its header, a disco message).</summary>
    private const int ReceiveBufferSize = 4096;

    private const int SockaddrPortOffset = 2;
    private const int SockaddrAddressOffset = 4;

    private readonly Socket _socket;
    private readonly GuessDatagramHandler _onDatagram;
    private readonly CancellationTokenSource _stop = new();

    // The last destination and its socket address, so a peer's packets are sent without allocating; guarded by _sendLock.
    private readonly object _sendLock = new();
    private Endpoint _lastDestination;
    private SocketAddress? _lastAddress;

    private UdpGuessSocket(Socket socket, GuessDatagramHandler onDatagram)
    {
        _socket = socket;
        _onDatagram = onDatagram;
    }

    /// <summary>Opens one; null when the host refuses another socket (out of descriptors or ports).</summary>
    public static UdpGuessSocket? TryOpen(GuessDatagramHandler onDatagram)
    {
        Socket? socket = null;
        try
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            UnderlayMark.Apply(socket);
            socket.Bind(new IPEndPoint(IPAddress.Any, 0));
            var guess = new UdpGuessSocket(socket, onDatagram);
            _ = guess.ReceiveLoopAsync();
            return guess;
        }
        catch (SocketException)
        {
            socket?.Dispose();
            return null;
        }
    }

    public void Send(in Endpoint destination, ReadOnlySpan<byte> datagram)
    {
        if (!destination.IsIPv4)
        {
            return;
        }

        lock (_sendLock)
        {
            if (_lastAddress is null || _lastDestination != destination)
            {
                _lastAddress = new IPEndPoint(destination.ToIPAddress(), destination.Port).Serialize();
                _lastDestination = destination;
            }

            try
            {
                _socket.SendTo(datagram, SocketFlags.None, _lastAddress);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Lost like any datagram; the path's pongs stop and discovery falls back to the relay.
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[ReceiveBufferSize];
        var from = new SocketAddress(AddressFamily.InterNetwork);
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue; // an ICMP error for an earlier send: nothing to read
            }
            catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            var address = from.Buffer.Span;
            var source = Endpoint.FromAddressBytes(
                address.Slice(SockaddrAddressOffset, 4),
                BinaryPrimitives.ReadUInt16BigEndian(address[SockaddrPortOffset..]));
            _onDatagram(this, buffer.AsSpan(0, n), source);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Opens <see cref="UdpGuessSocket"/>s.</summary>
public sealed class UdpGuessSocketFactory : IGuessSocketFactory
{
    public IGuessSocket? Open(GuessDatagramHandler onDatagram) => UdpGuessSocket.TryOpen(onDatagram);
}
