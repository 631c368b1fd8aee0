using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Crypto.Noise;

namespace Trellis.ControlScale;

/// <summary>
/// A node on the real protocol that keeps no map (5,000 full maps of 5,000 peers would not fit in
/// one process): it only notes when a message carrying the current marker arrives.
/// </summary>
internal sealed class ScaleClient(Uri server, Key serverKey, int index)
{
    private NoiseControlChannel? _channel;

    public static byte[]? Marker { get; set; }

    public long MarkerSeenAt { get; set; }

    public int Index { get; } = index;

    public long FullMapBytes { get; private set; }

    public TaskCompletionSource FullMapArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task JoinAsync(string authKey, string hostname, CancellationToken ct)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(new UriBuilder(server) { Scheme = "ws", Path = "/control" }.Uri, ct).ConfigureAwait(false);
        _channel = await NoiseControlChannel.ConnectAsync(socket, X25519.GeneratePrivateKey(), serverKey, ct).ConfigureAwait(false);
        await _channel.SendAsync(new RegisterRequest
        {
            NodeKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
            DiscoKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
            Hostname = hostname,
            AuthKey = authKey,
        }, ct).ConfigureAwait(false);
        var reply = await _channel.ReceiveAsync(ct).ConfigureAwait(false);
        if (reply is not RegisterResponse { Status: "active" })
        {
            throw new InvalidOperationException($"registration of {hostname} failed: {reply}");
        }

        await _channel.SendAsync(new MapRequest { Endpoints = [$"198.18.{Index / 250}.{Index % 250 + 1}:41641"] }, ct).ConfigureAwait(false);
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

                if (MarkerSeenAt == 0 && Marker is { } marker && json.AsSpan().IndexOf(marker) >= 0)
                {
                    MarkerSeenAt = Stopwatch.GetTimestamp();
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidDataException)
        {
            FullMapArrived.TrySetException(e);
        }
    }

    public static void SetMarker(string text) => Marker = Encoding.UTF8.GetBytes(text);
}
