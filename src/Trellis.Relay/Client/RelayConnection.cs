using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Relay.Protocol;
using Trellis.Relay.Server;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Client;

/// <summary>The relay answered with our own key (a relay meshing with itself).</summary>
internal sealed class RelaySelfConnectionException() : Exception("the relay is this relay");

/// <summary>
/// One live client connection: dialed, handshaken (ServerKey checked, ClientInfo sealed with the node
/// key, ServerInfo opened), with its writer started. <see cref="RelayClient"/> reads it and replaces
/// it when it breaks.
/// </summary>
internal sealed class RelayConnection : IAsyncDisposable
{
    private readonly Stream _stream;
    private int _disposed;

    private RelayConnection(Stream stream, FrameReader reader, Key serverKey, RelayServerInfo info, SendQueue queue, TimeProvider time)
    {
        _stream = stream;
        Reader = reader;
        ServerKey = serverKey;
        ServerInfo = info;
        Sender = new FrameSender(stream, queue, time, Abort);
        Sender.Start();
    }

    public FrameReader Reader { get; }

    public FrameSender Sender { get; }

    public SendQueue Queue => Sender.Queue;

    public Key ServerKey { get; }

    public RelayServerInfo ServerInfo { get; }

    public bool IsWebSocket => _stream is WebSocketByteStream;

    public static async Task<RelayConnection> ConnectAsync(RelayClientOptions options, bool webSocket, TimeProvider time, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(options.ConnectTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        Stream? stream = null;
        try
        {
            (stream, var reader) = await RelayDialer.DialAsync(options, webSocket, linked.Token).ConfigureAwait(false);

            // The frame reads take no token (they are the data path's); a timeout closes the stream under them.
            await using var closeOnTimeout = linked.Token.UnsafeRegister(static s => ((Stream)s!).Dispose(), stream).ConfigureAwait(false);
            var first = await reader.ReadAsync().ConfigureAwait(false);
            Key serverKey;
            byte[] challenge;
            try
            {
                if (first.IsEnd || first.Type != FrameType.ServerKey || !FrameCodec.TryParseServerKey(first.Payload, out serverKey, out var challengeSpan))
                {
                    throw new RelayConnectException($"{options.Url} is not a Trellis relay (its first frame was {(first.IsEnd ? "none" : first.Type.ToString())})");
                }

                challenge = challengeSpan.ToArray();
            }
            finally
            {
                first.Return();
            }

            if (options.SelfKey is { } self && serverKey == self)
            {
                throw new RelaySelfConnectionException();
            }

            if (options.ServerKey is { } expected && serverKey != expected)
            {
                throw new RelayConnectException($"{options.Url} presented key {serverKey}, not the expected {expected}");
            }

            if (options.ServerKeyCheck?.Invoke(serverKey) is { } refusal)
            {
                throw new RelayConnectException(refusal);
            }

            var clientInfo = new RelayClientInfo { MeshKey = options.MeshKey, CanAckPings = true };
            await stream.WriteAsync(HandshakeSeal.SealClientInfo(options.PrivateKey, serverKey, challenge, clientInfo), linked.Token).ConfigureAwait(false);
            var second = await reader.ReadAsync().ConfigureAwait(false);
            RelayServerInfo? info;
            try
            {
                if (second.IsEnd || second.Type != FrameType.ServerInfo
                    || !HandshakeSeal.TryOpenServerInfo(options.PrivateKey, serverKey, challenge, second.Payload, out info))
                {
                    throw new RelayConnectException($"{options.Url} closed the handshake or answered with a bad ServerInfo");
                }
            }
            finally
            {
                second.Return();
            }

            if (info!.Error is { } error)
            {
                throw new RelayRefusedException($"{options.Url} refused this client: {error}");
            }

            var queue = new SendQueue(options.SendQueueLength, options.DropWhenFull ?? QueueFullMode.DropNewest);
            return new RelayConnection(stream, reader, serverKey, info, queue, time);
        }
        catch (Exception e)
        {
            // Whatever failed (sockets, TLS, HTTP, the handshake), this attempt is over; the loop retries.
            if (stream is not null)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }

            if (timeout.IsCancellationRequested)
            {
                throw new RelayConnectException($"{options.Url} did not complete the relay handshake within {options.ConnectTimeout.TotalSeconds:0.#} s", e);
            }

            if (e is RelayConnectException or RelayRefusedException or RelaySelfConnectionException)
            {
                throw;
            }

            throw new RelayConnectException($"could not connect to {options.Url}: {ConnectionFailures.Describe(e, options.Url.Host)}", e);
        }
    }

    public void Abort()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stream.Dispose();
        }
    }

    /// <summary>Writes what is queued (briefly), then closes.</summary>
    public async ValueTask DisposeAsync()
    {
        await Sender.FlushAndStopAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        if (_stream is WebSocketByteStream { } ws)
        {
            await ws.CloseQuietlyAsync().ConfigureAwait(false);
        }

        Abort();
        await Sender.Completion.ConfigureAwait(false);
    }
}
