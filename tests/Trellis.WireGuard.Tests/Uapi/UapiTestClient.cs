using System.Net.Sockets;
using System.Text;

namespace Trellis.WireGuard.Tests.Uapi;

/// <summary>A raw client of the configuration socket that splits what it receives into responses.</summary>
internal sealed class UapiTestClient : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
    private readonly StringBuilder _pending = new();

    public static async Task<UapiTestClient> ConnectAsync(string path)
    {
        var client = new UapiTestClient();
        await client._socket.ConnectAsync(new UnixDomainSocketEndPoint(path));
        return client;
    }

    public async Task SendAsync(string text) => await _socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None);

    /// <summary>The next response, up to and including its "errno=N\n\n", or whatever came before the end of the stream.</summary>
    public async Task<string> ReceiveResponseAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        while (true)
        {
            var text = _pending.ToString();
            var errno = text.StartsWith("errno=", StringComparison.Ordinal) ? 0 : text.IndexOf("\nerrno=", StringComparison.Ordinal);
            var end = errno < 0 ? -1 : text.IndexOf("\n\n", errno, StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..(end + 2)];
            }

            var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                _pending.Clear();
                return text;
            }

            _pending.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
    }

    /// <summary>Whether the server closed the connection (a reset counts: Linux resets when unread data is dropped).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[64];
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token) == 0;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return true;
        }
    }

    public void Dispose() => _socket.Dispose();
}
