using System.Net;
using System.Net.Sockets;
using System.Text;
using Trellis.Lab.Tests.PortMapping;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// A server on an "internet" host that answers each TCP connection with the source address it saw
/// and closes: what a website would log. It listens on IPv4 and IPv6 (one dual-stack socket) inside
/// the host's namespace; clients connect with bash's /dev/tcp, so the lab needs no extra tool.
/// </summary>
internal sealed class SourceEcho : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    private SourceEcho(TcpListener listener)
    {
        _listener = listener;
        _loop = Task.Run(AcceptLoopAsync);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public static SourceEcho Start(NetNamespace ns) => new(InNamespace.Run(ns, () =>
    {
        var listener = new TcpListener(IPAddress.IPv6Any, 0);
        listener.Server.DualMode = true;
        listener.Start();
        return listener;
    }));

    /// <summary>The source address <paramref name="from"/> is seen with when it connects to <paramref name="server"/>, or null when it cannot connect.</summary>
    public async Task<string?> SeenFromAsync(NetNamespace from, IPAddress server)
    {
        var result = await from.ExecAsync(
            "bash",
            ["-c", $"exec 3<>/dev/tcp/{server}/{Port} && cat <&3"],
            new CommandOptions { Timeout = TimeSpan.FromSeconds(10) });
        return result.Succeeded && result.StandardOutput.Trim() is { Length: > 0 } seen ? seen : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            var remote = ((IPEndPoint)client.Client.RemoteEndPoint!).Address;
            var text = (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote) + "\n";
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(text), _stop.Token);
        }
    }
}
