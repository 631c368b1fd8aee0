using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Transport;

namespace Trellis.Net.PortMapping;

/// <summary>
/// The sockets one UPnP exchange uses, all opened at once in the calling thread (and so in its network
/// namespace, like the rest of <see cref="PortMapper"/>): the SSDP socket, and a few TCP sockets the
/// HTTP requests connect with later from whatever thread their continuations run on.
/// </summary>
internal sealed class UpnpSockets : IDisposable
{
    private readonly ConcurrentQueue<Socket> _tcp = new();

    private UpnpSockets(Socket ssdp, IPAddress local, int tcpCount)
    {
        Ssdp = ssdp;
        LocalAddress = local;
        for (var i = 0; i < tcpCount; i++)
        {
            _tcp.Enqueue(Marked(new Socket(local.AddressFamily, SocketType.Stream, ProtocolType.Tcp)));
        }
    }

    public Socket Ssdp { get; }

    /// <summary>This host's address toward the gateway: the NewInternalClient of a mapping.</summary>
    public IPAddress LocalAddress { get; }

    /// <summary>Null (with the reason) when there is no route to <paramref name="gateway"/>.</summary>
    public static UpnpSockets? TryOpen(IPAddress gateway, int tcpCount, out string? error)
    {
        error = null;
        Socket? ssdp = null;
        try
        {
            IPAddress local;
            using (var probe = Marked(new Socket(gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp)))
            {
                probe.Connect(new IPEndPoint(gateway, SsdpSearch.Port)); // no datagram: just picks the route
                local = ((IPEndPoint)probe.LocalEndPoint!).Address;
            }

            ssdp = Marked(new Socket(gateway.AddressFamily, SocketType.Dgram, ProtocolType.Udp));
            ssdp.Bind(new IPEndPoint(local, 0));

            // The M-SEARCH goes out the interface toward the gateway, whatever the multicast routes say.
            ssdp.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, local.GetAddressBytes());
            return new UpnpSockets(ssdp, local, tcpCount);
        }
        catch (SocketException e)
        {
            ssdp?.Dispose();
            error = $"cannot reach {gateway}: {e.Message}";
            return null;
        }
    }

    /// <summary>For <see cref="SocketsHttpHandler.ConnectCallback"/>: a prepared socket while there are any.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = _tcp.TryDequeue(out var prepared) ? prepared : Marked(new Socket(LocalAddress.AddressFamily, SocketType.Stream, ProtocolType.Tcp));
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Ssdp.Dispose();
        while (_tcp.TryDequeue(out var socket))
        {
            socket.Dispose();
        }
    }

    /// <summary>The gateway is on the LAN, which an exit node without LAN access would route into the tunnel.</summary>
    private static Socket Marked(Socket socket)
    {
        UnderlayMark.Apply(socket);
        return socket;
    }
}
