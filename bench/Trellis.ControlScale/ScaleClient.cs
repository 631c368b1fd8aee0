using System.Diagnostics;
using System.Net.WebSockets;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Crypto.Noise;

namespace Trellis.ControlScale;

/// <summary>
/// A node on the real protocol that keeps no map (5,000 full maps of 5,000 peers would not fit in
/// one process): it keeps its own entry and notes when the first message after <see cref="Arm"/> arrives.
/// </summary>
internal sealed class ScaleClient(Uri server, Key serverKey, int index, int protocol)
{
    private static readonly byte[] KeepaliveType = "\"type\":\"keepalive\""u8.ToArray();
    private static long s_lastMessageAt;
    private NoiseControlChannel? _channel;
    private long _firstAfterArm;

    /// <summary>When any client last received anything but a keepalive (Stopwatch ticks).</summary>
    public static long LastMessageAt => Volatile.Read(ref s_lastMessageAt);

    /// <summary>When the first message since <see cref="Arm"/> arrived (Stopwatch ticks), 0 while none has.</summary>
    public long FirstAfterArm => Volatile.Read(ref _firstAfterArm);

    public int Index { get; } = index;

    /// <summary>The server (replica) this node talks to.</summary>
    public Uri Server { get; } = server;

    /// <summary>The <see cref="ControlProtocol"/> level this node announces: whether it is sent <see cref="MapDelta.PeersKept"/>.</summary>
    public int Protocol { get; } = protocol;

    /// <summary>This node's entry as the server registered it.</summary>
    public PeerInfo? Self { get; private set; }

    public long FullMapBytes { get; private set; }

    public TaskCompletionSource FullMapArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Arm() => Volatile.Write(ref _firstAfterArm, 0);

    public async Task JoinAsync(string authKey, string hostname, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(Server) { Scheme = "ws", Path = "/control" }.Uri, ct).ConfigureAwait(false);
        _channel = await NoiseControlChannel.ConnectAsync(socket, X25519.GeneratePrivateKey(), serverKey, ct).ConfigureAwait(false);
        await _channel.SendAsync(new RegisterRequest
        {
            NodeKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
            DiscoKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
            Hostname = hostname,
            AuthKey = authKey,
        }, ct).ConfigureAwait(false);
        var reply = await _channel.ReceiveAsync(ct).ConfigureAwait(false);
        if (reply is not RegisterResponse { Status: RegisterStatus.Active, Self: { } self })
        {
            throw new InvalidOperationException($"registration of {hostname} failed: {reply}");
        }

        Self = self;
        await _channel.SendAsync(new MapRequest { Endpoints = [$"198.18.{Index / 250}.{Index % 250 + 1}:41641"], Protocol = Protocol }, ct).ConfigureAwait(false);
        _ = Task.Run(() => ReadLoopAsync(ct), ct);
    }

    public Task SendAsync(ControlMessage message, CancellationToken ct) => _channel!.SendAsync(message, ct);

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        try
        {
            while (await _channel!.ReceiveJsonAsync(ct).ConfigureAwait(false) is { } json)
            {
                if (!FullMapArrived.Task.IsCompleted)
                {
                    FullMapBytes = json.Length;
                    FullMapArrived.TrySetResult();
                    continue;
                }

                if (json.AsSpan().IndexOf(KeepaliveType) >= 0)
                {
                    continue;
                }

                var now = Stopwatch.GetTimestamp();
                Volatile.Write(ref s_lastMessageAt, now);
                Interlocked.CompareExchange(ref _firstAfterArm, now, 0);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidDataException)
        {
            FullMapArrived.TrySetException(e);
        }
    }
}
