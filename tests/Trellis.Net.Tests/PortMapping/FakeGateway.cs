using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>A NAT-PMP/PCP server on loopback whose answers the test writes: a request in, zero or more replies out.</summary>
internal sealed class FakeGateway : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Func<byte[], IEnumerable<byte[]>> _answer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public FakeGateway(Func<byte[], IEnumerable<byte[]>> answer)
    {
        _answer = answer;
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _loop = Task.Run(ServeAsync);
    }

    public int Port => ((IPEndPoint)_socket.LocalEndPoint!).Port;

    public ConcurrentQueue<byte[]> Requests { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _socket.Dispose();
        _loop.Wait(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        var buffer = new byte[2048];
        var from = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var request = buffer.AsSpan(0, received.ReceivedBytes).ToArray();
            Requests.Enqueue(request);
            foreach (var reply in _answer(request))
            {
                await _socket.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint);
            }
        }
    }
}
