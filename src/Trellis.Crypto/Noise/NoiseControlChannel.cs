using System.Buffers;
using System.Net.WebSockets;
using System.Text;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Crypto.Noise;

/// <summary>
/// The control channel: a Noise IK session (the node's machine key as initiator static, the server's
/// key as responder static) carried in binary WebSocket messages, so it crosses HTTP reverse proxies
/// and stays confidential and authenticated without TLS. Each WebSocket message is one Noise message;
/// the plaintext is the <see cref="MessageFramer"/> stream of control messages. One reader and one
/// writer at a time; sends are serialized internally.
/// </summary>
public sealed class NoiseControlChannel : IDisposable
{
    public const string Prologue = "trellis control v1";

    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The node's first handshake message is 96 bytes (it carries no payload); the server reads at most
    /// this much of it, so a connection that never authenticates costs no 64 KiB buffer.
    /// </summary>
    private const int MaxFirstMessage = 1024;

    /// <summary>
    /// The most plaintext one WebSocket message carries when sending: sealed (+16) and framed (+8 at
    /// most, a masked client frame), it fits one 4 KiB block of Kestrel's output pool. A larger frame
    /// is copied into an array Kestrel rents at the frame's size and holds until the socket drains: in
    /// a join storm, thousands of those for slow readers outlived gen0, and most of the server's
    /// allocation was such arrays (docs/BENCHMARKS.md). Any cut is valid: the receiver reassembles by
    /// the framer's length prefix.
    /// </summary>
    internal const int MaxSendPiece = 4096 - NoiseConstants.TagLen - 8;

    private readonly WebSocket _socket;
    private readonly NoiseTransport _transport;
    private readonly MessageFramer _framer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private long _bytesSent;
    private readonly Queue<byte[]> _received = new();

    private NoiseControlChannel(WebSocket socket, NoiseTransport transport, Key remoteStatic, int maxMessage)
    {
        _socket = socket;
        _transport = transport;
        _framer = new MessageFramer(maxMessage);
        RemoteStatic = remoteStatic;
    }

    /// <summary>The other side's static key: for the server, the node's machine key.</summary>
    public Key RemoteStatic { get; }

    /// <summary>Node side: runs the handshake on a connected WebSocket.</summary>
    public static async Task<NoiseControlChannel> ConnectAsync(WebSocket socket, Key machinePrivate, Key serverPublic, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(HandshakeTimeout);
        using var initiator = new NoiseIKInitiator(machinePrivate, serverPublic, Encoding.ASCII.GetBytes(Prologue));
        var first = initiator.WriteFirstMessage(default);
        await socket.SendAsync(first, WebSocketMessageType.Binary, true, timeout.Token).ConfigureAwait(false);
        var buffer = new byte[NoiseConstants.MaxMessageLength];
        var length = await ReceiveWholeAsync(socket, buffer, buffer.Length, timeout.Token).ConfigureAwait(false)
                     ?? throw new NoiseHandshakeException("the server closed the control channel during the handshake (is the server key right?)");
        var transport = initiator.ReadSecondMessage(buffer.AsSpan(0, length), out _);
        return new NoiseControlChannel(socket, transport, serverPublic, MessageFramer.DefaultMaxMessage);
    }

    /// <summary>Server side with the default limits (<see cref="ControlChannelAcceptOptions"/>).</summary>
    public static Task<NoiseControlChannel> AcceptAsync(WebSocket socket, Key serverPrivate, CancellationToken cancellationToken) =>
        AcceptAsync(socket, serverPrivate, new ControlChannelAcceptOptions(), cancellationToken);

    /// <summary>
    /// Server side: answers the node's handshake. Throws <see cref="NoiseHandshakeException"/> on a bad
    /// one and <see cref="TimeoutException"/> when it does not arrive within the options' deadline.
    /// </summary>
    public static async Task<NoiseControlChannel> AcceptAsync(
        WebSocket socket, Key serverPrivate, ControlChannelAcceptOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var deadline = new CancellationTokenSource(options.HandshakeTimeout, options.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            var buffer = new byte[MaxFirstMessage];
            var length = await ReceiveWholeAsync(socket, buffer, buffer.Length, timeout.Token).ConfigureAwait(false)
                         ?? throw new NoiseHandshakeException("the node closed the control channel before its handshake");
            using var responder = new NoiseIKResponder(serverPrivate, Encoding.ASCII.GetBytes(Prologue));
            responder.ReadFirstMessage(buffer.AsSpan(0, length), out var machineKey);
            var second = responder.WriteSecondMessage(default, out var transport);
            await socket.SendAsync(second, WebSocketMessageType.Binary, true, timeout.Token).ConfigureAwait(false);
            return new NoiseControlChannel(socket, transport, machineKey, options.MaxMessage);
        }
        catch (Exception e) when (deadline.IsCancellationRequested && e is OperationCanceledException or WebSocketException)
        {
            // The deadline came first: the abort it causes may also cancel the caller's token or break the socket.
            throw new TimeoutException($"the node did not finish its control handshake within {options.HandshakeTimeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>Bytes sent on the WebSocket after the handshake (sealed chunks, before WebSocket framing).</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    public async Task SendAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        using var framed = FramedMessageWriter.Write(message);
        await SendChunksAsync(framed.Chunks, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends bytes already in the <see cref="MessageFramer"/> format (tools and tests that craft frames).</summary>
    public Task SendFramedAsync(byte[] framed, CancellationToken cancellationToken) =>
        SendChunksAsync(MessageFramer.Chunks(framed), cancellationToken);

    private async Task SendChunksAsync(IEnumerable<ReadOnlyMemory<byte>> chunks, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var chunk in chunks)
            {
                for (var at = 0; at < chunk.Length; at += MaxSendPiece)
                {
                    var piece = chunk.Slice(at, Math.Min(MaxSendPiece, chunk.Length - at));
                    // Sized to the piece, rented after the lock: a server sending a small delta to thousands
                    // of nodes at once must not hold a 64 KiB buffer for each while their sockets drain.
                    var sealedPiece = ArrayPool<byte>.Shared.Rent(piece.Length + NoiseConstants.TagLen);
                    try
                    {
                        var length = _transport.Encrypt(piece.Span, sealedPiece);
                        await _socket.SendAsync(sealedPiece.AsMemory(0, length), WebSocketMessageType.Binary, true, cancellationToken).ConfigureAwait(false);
                        Interlocked.Add(ref _bytesSent, length);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(sealedPiece);
                    }
                }
            }
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// The next control message, or null when the other side closed. A forged, replayed or malformed
    /// message throws <see cref="InvalidDataException"/>, one over the size cap
    /// <see cref="ControlMessageTooLargeException"/>: the channel cannot continue after either.
    /// </summary>
    public async Task<ControlMessage?> ReceiveAsync(CancellationToken cancellationToken) =>
        await ReceiveJsonAsync(cancellationToken).ConfigureAwait(false) is { } json ? MessageFramer.Decode(json) : null;

    /// <summary>The next message's JSON, undecoded (for tools that look at few fields of large maps).</summary>
    public async Task<byte[]?> ReceiveJsonAsync(CancellationToken cancellationToken)
    {
        while (_received.Count == 0)
        {
            // Wait for data with a zero-byte read and rent only then: an idle connection (most of
            // thousands) holds no 64 KiB buffer while it waits.
            var ready = await _socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
            if (ready.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(NoiseConstants.MaxMessageLength);
            try
            {
                var length = await ReceiveWholeAsync(_socket, buffer, NoiseConstants.MaxMessageLength, cancellationToken).ConfigureAwait(false);
                if (length is null)
                {
                    return null;
                }

                if (!_transport.TryDecrypt(buffer.AsSpan(0, length.Value), out var plaintext))
                {
                    throw new InvalidDataException("a control channel message failed authentication");
                }

                foreach (var message in _framer.AddRaw(plaintext))
                {
                    _received.Enqueue(message);
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return _received.Dequeue();
    }

    public async Task CloseAsync(string reason, CancellationToken cancellationToken)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, cancellationToken).ConfigureAwait(false);
            }
            catch (WebSocketException)
            {
                // the peer is already gone
            }
        }
    }

    /// <summary>Reads one whole WebSocket message of at most <paramref name="limit"/> bytes; null on close.</summary>
    private static async Task<int?> ReceiveWholeAsync(WebSocket socket, byte[] buffer, int limit, CancellationToken cancellationToken)
    {
        var count = 0;
        while (true)
        {
            if (count == limit)
            {
                throw new InvalidDataException($"a control channel message exceeds {limit} bytes");
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(count, limit - count), cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            if (result.MessageType != WebSocketMessageType.Binary)
            {
                throw new InvalidDataException("the control channel carries binary messages only");
            }

            count += result.Count;
            if (result.EndOfMessage)
            {
                return count;
            }
        }
    }

    public void Dispose()
    {
        _transport.Dispose();
        _sendLock.Dispose();
        _socket.Dispose();
    }
}
