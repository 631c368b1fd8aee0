using System.Collections.Concurrent;
using System.Net.Sockets;

namespace Trellis.WireGuard.Uapi;

/// <summary>
/// Serves the configuration protocol for a <see cref="Device"/> on a Unix socket, by default
/// <c>/var/run/wireguard/{interfaceName}.sock</c> where wg(8) looks for userspace implementations.
/// The directory is created with mode 0755 and the socket with mode 0600: whoever can connect
/// controls the device. Connections are served concurrently, each a sequence of requests.
/// </summary>
public sealed class UapiServer : IDisposable
{
    /// <summary>Where wg(8) and wireguard-go look for the sockets of userspace interfaces.</summary>
    public const string DefaultSocketDirectory = "/var/run/wireguard";

    private readonly Device _device;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<UapiConnection, byte> _connections = new();
    private readonly Task _acceptLoop;
    private int _disposed;

    /// <summary>Starts serving at once.</summary>
    /// <param name="device">The device to configure.</param>
    /// <param name="interfaceName">The name clients address the device by; the socket is named after it.</param>
    /// <param name="socketDirectory">The socket's directory; <see cref="DefaultSocketDirectory"/> when null.</param>
    /// <exception cref="InvalidOperationException">Another live server answers on the socket path.</exception>
    public UapiServer(Device device, string interfaceName, string? socketDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentException.ThrowIfNullOrEmpty(interfaceName);
        if (interfaceName.AsSpan().IndexOfAny('/', '\0') >= 0)
        {
            throw new ArgumentException("an interface name cannot contain '/' or NUL", nameof(interfaceName));
        }

        _device = device;
        InterfaceName = interfaceName;
        SocketPath = SocketPathFor(interfaceName, socketDirectory);
        _listener = UapiSocket.Listen(SocketPath, interfaceName);
        _acceptLoop = AcceptLoopAsync();
    }

    public string InterfaceName { get; }

    public string SocketPath { get; }

    public static string SocketPathFor(string interfaceName, string? socketDirectory = null) =>
        Path.Combine(socketDirectory ?? DefaultSocketDirectory, interfaceName + ".sock");

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                // Out of descriptors or similar: back off instead of spinning.
                await Task.Delay(100, CancellationToken.None).ConfigureAwait(false);
                continue;
            }

            if (_connections.Count >= UapiLimits.MaxConnections)
            {
                client.Dispose();
                continue;
            }

            var connection = new UapiConnection(_device, client, _stopping.Token, c => _connections.TryRemove(c, out _));
            _connections.TryAdd(connection, 0);
            connection.Start();
        }
    }

    /// <summary>Stops accepting, drops the connections in progress and deletes the socket file.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        _listener.Dispose();
        var pending = new List<Task> { _acceptLoop };
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
            pending.Add(connection.Completion);
        }

        var finished = Task.WaitAll([.. pending], UapiLimits.ShutdownTimeout);
        try
        {
            File.Delete(SocketPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Someone else removed or replaced it; nothing of ours is left to clean up.
        }

        // A connection still running after the timeout may yet observe the token.
        if (finished)
        {
            _stopping.Dispose();
        }
    }
}
