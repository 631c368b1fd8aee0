using System.Net;
using ARSoft.Tools.Net.Dns;
using Microsoft.Extensions.Logging;

namespace Trellis.Node.Dns;

/// <summary>
/// The node's resolver: the library's DNS server on UDP and TCP at the given endpoints (the mesh
/// resolver addresses on the TUN), answering mesh names itself (<see cref="MeshAnswers"/>) and
/// forwarding the rest (<see cref="DnsForwarder"/>). Only this host may ask: a client whose address is
/// not loopback or one of <see cref="Update"/>'s own addresses is refused at connect, so peers that
/// reach the address through the tunnel get nothing. The library bounds what it reads (a UDP datagram,
/// one length-prefixed TCP message), truncates UDP answers to the client's size, and answers an
/// unparsable query with nothing.
/// </summary>
internal sealed partial class MeshResolver : IDisposable
{
    private readonly DnsServer _server;
    private readonly DnsForwarder _forwarder = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ILogger _logger;

    // Replaced whole by Update; read by the library's query handlers.
    private volatile MeshNames _names;
    private volatile HashSet<IPAddress> _ownAddresses;

    private MeshResolver(DnsServer server, MeshNames names, IEnumerable<IPAddress> ownAddresses, ILogger logger)
    {
        _server = server;
        _names = names;
        _ownAddresses = [.. ownAddresses];
        _logger = logger;
    }

    /// <summary>Listens on every endpoint (UDP and TCP); throws a <see cref="System.Net.Sockets.SocketException"/> when one cannot be bound.</summary>
    public static MeshResolver Start(IReadOnlyList<IPEndPoint> endpoints, MeshNames names, IEnumerable<IPAddress> ownAddresses, ILogger logger)
    {
        const int TimeoutMs = 5000;
        var transports = endpoints
            .SelectMany(e => new IServerTransport[] { new UdpServerTransport(e, TimeoutMs), new TcpServerTransport(e, TimeoutMs, TimeoutMs) })
            .ToArray();
        var server = new DnsServer(transports);
        var resolver = new MeshResolver(server, names, ownAddresses, logger);
        server.ClientConnected += resolver.OnClientConnectedAsync;
        server.QueryReceived += resolver.OnQueryAsync;
        server.ExceptionThrown += resolver.OnExceptionAsync;
        try
        {
            server.Start();
        }
        catch
        {
            resolver.Dispose();
            throw;
        }

        return resolver;
    }

    /// <summary>A new map's names; <paramref name="ownAddresses"/> are this node's overlay addresses and its plain WireGuard peers', which may ask.</summary>
    public void Update(MeshNames names, IEnumerable<IPAddress> ownAddresses)
    {
        _ownAddresses = [.. ownAddresses];
        _names = names;
    }

    public void Dispose()
    {
        _stopping.Cancel();
        try
        {
            _server.Stop();
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or System.Net.Sockets.SocketException)
        {
            LogStopFailed(_logger, e);
        }

        _forwarder.Dispose();
        _stopping.Dispose();
    }

    /// <summary>Whether a client at <paramref name="client"/> may ask: this host only (loopback, its own overlay addresses, the resolver addresses), never a peer.</summary>
    internal static bool MayAsk(IPAddress client, IReadOnlySet<IPAddress> ownAddresses)
    {
        var address = client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        return IPAddress.IsLoopback(address) || ownAddresses.Contains(address) || Core.Control.MeshResolverAddress.All.Contains(address);
    }

    private Task OnClientConnectedAsync(object sender, ClientConnectedEventArgs e)
    {
        e.RefuseConnect = !MayAsk(e.RemoteEndpoint.Address, _ownAddresses);
        return Task.CompletedTask;
    }

    private async Task OnQueryAsync(object sender, QueryReceivedEventArgs e)
    {
        if (e.Query is not DnsMessage query)
        {
            return;
        }

        var names = _names;
        if (MeshAnswers.TryAnswer(query, names) is { } answer)
        {
            e.Response = answer;
            return;
        }

        var name = MeshAnswers.Normalize(query.Questions[0].Name);
        try
        {
            e.Response = await _forwarder.ForwardAsync(query, names.SplitFor(name) ?? (IReadOnlyList<IPEndPoint>)names.Upstreams, _stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            LogForwardFailed(_logger, name, ex.Message);
            e.Response = MeshAnswers.Failure(query, ReturnCode.ServerFailure);
        }
    }

    private Task OnExceptionAsync(object sender, ExceptionEventArgs e)
    {
        LogServerError(_logger, e.Exception.Message);
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "forwarding a question for {Name} failed: {Reason}")]
    private static partial void LogForwardFailed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "the resolver dropped a query: {Reason}")]
    private static partial void LogServerError(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "stopping the resolver failed")]
    private static partial void LogStopFailed(ILogger logger, Exception exception);
}
