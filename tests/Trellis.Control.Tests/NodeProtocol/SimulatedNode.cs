using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Crypto.Noise;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>
/// A node speaking the real protocol (WebSocket, Noise IK, framed JSON) with a view of the mesh it
/// keeps from the full map and the deltas, as a daemon would.
/// </summary>
internal sealed class SimulatedNode : IAsyncDisposable
{
    private readonly Uri _server;
    private readonly X509Certificate2? _trusted;
    private ClientWebSocket? _socket;
    private readonly object _lock = new();
    private readonly Dictionary<long, PeerInfo> _peers = [];
    private NoiseControlChannel? _channel;
    private Task? _reader;
    private CancellationTokenSource _stop = new();

    /// <param name="trusted">A self-signed server certificate to accept (TLS tests).</param>
    public SimulatedNode(Uri server, string hostname, X509Certificate2? trusted = null)
    {
        _server = server;
        _trusted = trusted;
        Hostname = hostname;
    }

    public string Hostname { get; }

    public Key MachineKey { get; } = X25519.GeneratePrivateKey();

    public Key NodeKey { get; private set; } = X25519.GeneratePrivateKey();

    public Key DiscoKey { get; } = X25519.GeneratePrivateKey();

    public PeerInfo? Self { get; private set; }

    public List<ControlMessage> Received { get; } = [];

    /// <summary>A copy of what arrived so far, safe to read while messages keep arriving.</summary>
    public IReadOnlyList<ControlMessage> ReceivedSoFar()
    {
        lock (_lock)
        {
            return [.. Received];
        }
    }

    public string? EndedWith { get; private set; }

    /// <summary>The server closed the connection (or it broke); set when the reader stops.</summary>
    public bool Closed { get; private set; }

    public int FullMaps { get; private set; }

    /// <summary>The inbound filter the server last sent (full map or delta).</summary>
    public PacketFilter? Filter { get; private set; }

    /// <summary>The replicas' URLs the server last sent (a full map's, or a delta's that named them).</summary>
    public IReadOnlyList<string>? Replicas { get; private set; }

    public IReadOnlyDictionary<long, PeerInfo> Peers
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<long, PeerInfo>(_peers);
            }
        }
    }

    public static async Task<Key> ServerKeyAsync(Uri server, X509Certificate2? trusted = null)
    {
        using var handler = new HttpClientHandler();
        if (trusted is not null)
        {
            handler.ServerCertificateCustomValidationCallback = (_, cert, _, _) => IsTrusted(cert, trusted);
        }

        using var http = new HttpClient(handler);
        var doc = await http.GetFromJsonAsync<JsonElement>(new Uri(server, "/key"));
        return Key.FromBase64(doc.GetProperty("publicKey").GetString()!);
    }

    public async Task ConnectAsync()
    {
        var serverKey = await ServerKeyAsync(_server, _trusted);
        var socket = _socket = new ClientWebSocket();
        if (_trusted is { } trusted)
        {
            socket.Options.RemoteCertificateValidationCallback = (_, cert, _, _) => IsTrusted(cert, trusted);
        }

        var ws = new UriBuilder(_server) { Scheme = _server.Scheme == "https" ? "wss" : "ws", Path = "/control" }.Uri;
        await socket.ConnectAsync(ws, CancellationToken.None);
        _channel = await NoiseControlChannel.ConnectAsync(socket, MachineKey, serverKey, CancellationToken.None);
        _stop = new CancellationTokenSource();
    }

    public void RotateNodeKey() => NodeKey = X25519.GeneratePrivateKey();

    public async Task<RegisterResponse> RegisterAsync(string? authKey, params string[] routes)
    {
        await _channel!.SendAsync(new RegisterRequest
        {
            NodeKey = X25519.PublicKey(NodeKey).ToBase64(),
            DiscoKey = X25519.PublicKey(DiscoKey).ToBase64(),
            Hostname = Hostname,
            AuthKey = authKey,
            AdvertisedRoutes = routes,
        }, CancellationToken.None);
        var reply = await _channel.ReceiveAsync(CancellationToken.None);
        return Assert.IsType<RegisterResponse>(reply);
    }

    /// <summary>The <see cref="ControlProtocol"/> level announced in the map request; an older node's by default.</summary>
    public int Protocol { get; init; } = ControlProtocol.Initial;

    /// <summary>Asks for the map and keeps applying what arrives, in the background.</summary>
    public async Task StartMapAsync(params string[] endpoints)
    {
        await _channel!.SendAsync(new MapRequest { Endpoints = endpoints, Protocol = Protocol }, CancellationToken.None);
        _reader = Task.Run(ReadLoopAsync);
    }

    public Task SendAsync(ControlMessage message) => _channel!.SendAsync(message, CancellationToken.None);

    /// <summary>The next message, for a test that reads the conversation itself (null when the server closed).</summary>
    public Task<ControlMessage?> ReceiveAsync() => _channel!.ReceiveAsync(CancellationToken.None);

    public Task SendFramedAsync(byte[] framed) => _channel!.SendFramedAsync(framed, CancellationToken.None);

    /// <summary>Sends a WebSocket message past the Noise channel (forged or truncated transport messages).</summary>
    public Task SendRawAsync(byte[] message) =>
        _socket!.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);

    private static bool IsTrusted(X509Certificate? presented, X509Certificate2 trusted) =>
        presented is not null && presented.GetCertHashString() == trusted.GetCertHashString();

    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _channel!.ReceiveAsync(_stop.Token) is { } message)
            {
                lock (_lock)
                {
                    Received.Add(message);
                    Apply(message);
                }
            }

            EndedWith ??= "closed";
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or InvalidDataException or IOException)
        {
            EndedWith ??= e.GetType().Name;
        }
        finally
        {
            Closed = true;
        }
    }

    private void Apply(ControlMessage message)
    {
        switch (message)
        {
            case FullMap full:
                FullMaps++;
                Self = full.Self;
                Filter = full.PacketFilter;
                Replicas = full.Replicas;
                _peers.Clear();
                foreach (var p in full.Peers)
                {
                    _peers[p.Id] = p;
                }

                break;
            case MapDelta delta:
                foreach (var p in delta.PeersChanged)
                {
                    _peers[p.Id] = p;
                }

                if (delta.PeersKept is { } kept)
                {
                    var keep = kept.Concat(delta.PeersChanged.Select(p => p.Id)).ToHashSet();
                    foreach (var id in _peers.Keys.Where(id => !keep.Contains(id)).ToList())
                    {
                        _peers.Remove(id);
                    }
                }

                foreach (var id in delta.PeersRemoved)
                {
                    _peers.Remove(id);
                }

                foreach (var patch in delta.Patches)
                {
                    if (_peers.TryGetValue(patch.Id, out var p))
                    {
                        _peers[patch.Id] = p with
                        {
                            Endpoints = patch.Endpoints ?? p.Endpoints,
                            HomeRelay = patch.HomeRelay ?? p.HomeRelay,
                            Online = patch.Online ?? p.Online,
                        };
                    }
                }

                Self = delta.Self ?? Self;
                Filter = delta.PacketFilter ?? Filter;
                Replicas = delta.Replicas ?? Replicas;
                break;
            case ErrorMessage error:
                EndedWith = error.Code;
                break;
        }
    }

    public static Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        WaitAsync(() => Task.FromResult(condition()), what, timeout);

    public static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(10);
        }
    }

    public async Task DisconnectAsync()
    {
        if (_channel is null)
        {
            return;
        }

        await _channel.CloseAsync("bye", CancellationToken.None);
        await _stop.CancelAsync();
        if (_reader is not null)
        {
            await _reader.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        _channel.Dispose();
        _channel = null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await DisconnectAsync();
        }
        catch (WebSocketException)
        {
        }

        _stop.Dispose();
    }
}
