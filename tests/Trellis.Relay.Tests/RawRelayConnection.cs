using System.Net.Sockets;
using System.Text;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Tests;

/// <summary>A hand-driven relay connection for feeding the server bad input: TCP, the Upgrade, then raw bytes.</summary>
internal sealed class RawRelayConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawRelayConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public Key PrivateKey { get; } = X25519.GeneratePrivateKey();

    public Key PublicKey => X25519.PublicKey(PrivateKey);

    public static async Task<RawRelayConnection> ConnectAsync(Uri url)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        return new RawRelayConnection(tcp);
    }

    /// <summary>Connects and upgrades; the ServerKey frame is the next thing to read.</summary>
    public static async Task<RawRelayConnection> UpgradeAsync(Uri url)
    {
        var (connection, response) = await RequestUpgradeAsync(url);
        Assert.StartsWith("HTTP/1.1 101", response, StringComparison.Ordinal);
        return connection;
    }

    /// <summary>Connects and asks for the upgrade with extra header lines ("Name: value"); returns the response head and body start, whatever it is.</summary>
    public static async Task<(RawRelayConnection Connection, string Response)> RequestUpgradeAsync(Uri url, params string[] headers)
    {
        var connection = await ConnectAsync(url);
        var extra = string.Concat(headers.Select(h => h + "\r\n"));
        await connection.WriteAsync(Encoding.ASCII.GetBytes($"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nConnection: Upgrade\r\nUpgrade: trellis-relay\r\n{extra}\r\n"));
        var head = await connection.ReadHttpHeadAsync();
        if (!head.StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
        {
            // a refusal's reason is in its body
            head += await connection.ReadToEndAsync();
        }

        return (connection, head);
    }

    private async Task<string> ReadToEndAsync()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var body = new StringBuilder();
        var buffer = new byte[1024];
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, cancel.Token)) > 0)
            {
                body.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (body.ToString().Contains('\n', StringComparison.Ordinal))
                {
                    break;
                }
            }
        }
        catch (IOException)
        {
        }

        return body.ToString();
    }

    /// <summary>Upgrades and completes the handshake with a fresh node key.</summary>
    public static async Task<RawRelayConnection> HandshakeAsync(Uri url, string? meshKey = null)
    {
        var connection = await UpgradeAsync(url);
        var (type, payload) = await connection.ReadFrameAsync();
        Assert.Equal(FrameType.ServerKey, type);
        Assert.True(FrameCodec.TryParseServerKey(payload, out var serverKey, out var challengeSpan));
        var challenge = challengeSpan.ToArray();
        await connection.WriteAsync(HandshakeSeal.SealClientInfo(connection.PrivateKey, serverKey, challenge, new RelayClientInfo { MeshKey = meshKey }));
        (type, payload) = await connection.ReadFrameAsync();
        Assert.Equal(FrameType.ServerInfo, type);
        Assert.True(HandshakeSeal.TryOpenServerInfo(connection.PrivateKey, serverKey, challenge, payload, out var info));
        Assert.Null(info!.Error);
        return connection;
    }

    public Task WriteAsync(byte[] bytes) => _stream.WriteAsync(bytes).AsTask();

    public async Task<string> ReadHttpHeadAsync()
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await _stream.ReadAsync(one) == 0)
            {
                break;
            }

            head.Append((char)one[0]);
        }

        return head.ToString();
    }

    public async Task<(FrameType Type, byte[] Payload)> ReadFrameAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var header = new byte[RelayProtocol.HeaderSize];
        await _stream.ReadExactlyAsync(header, cancel.Token);
        FrameCodec.TryReadHeader(header, out var type, out var length);
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, cancel.Token);
        return (type, payload);
    }

    /// <summary>True when the server closes the connection (end of stream or reset) within the timeout; what it still sends is skipped.</summary>
    public async Task<bool> ClosedByServerAsync(TimeSpan? timeout = null)
    {
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var buffer = new byte[4096];
        try
        {
            while (await _stream.ReadAsync(buffer, cancel.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
