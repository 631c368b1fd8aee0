using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Relay.Server;

/// <summary>
/// A relay: clients prove their node key, and packets sent to a node key go to the client holding
/// it here, or through a mesh peer of the region that has it. A host maps it with
/// <see cref="RelayEndpointRouteBuilderExtensions.MapRelay"/> (the control server embeds it that
/// way; <see cref="RelayHost"/> runs it alone). Every connection reads on its own task and writes
/// from its own bounded queue, so a slow or hostile client costs only itself.
/// </summary>
public sealed partial class RelayServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<Key, ClientConnection> _clients = new();
    private readonly ConcurrentDictionary<Key, MeshRoute> _remote = new();
    private readonly ConcurrentDictionary<ClientConnection, byte> _connections = new();
    private readonly List<ClientConnection> _watchers = [];
    private readonly Lock _registry = new();
    private readonly List<MeshPeerLink> _links = [];
    private readonly ConnectionGate _gate;
    private readonly MeshPeerKeys _meshPeerKeys;
    private readonly ITimer _housekeeping;
    private readonly byte[]? _meshKeyHash;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly RelayCounters _retired = new();
    private readonly RelayMetrics _metrics;
    private int _started;
    private int _shuttingDown;
    private string _health = "";

    public RelayServer(RelayServerOptions options, TimeProvider? time = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validate(options);
        Options = options;
        Time = time ?? TimeProvider.System;
        _loggers = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<RelayServer>();
        PublicKey = X25519.PublicKey(options.PrivateKey);
        _gate = new ConnectionGate(options.MaxConnections, options.MaxConnectionsPerAddress);
        _meshPeerKeys = new MeshPeerKeys(options.MeshPeerKeyFile);
        _meshKeyHash = options.MeshKey is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.MeshKey));
        _housekeeping = Time.CreateTimer(static s => ((RelayServer)s!).Housekeep(), this, options.HousekeepingInterval, options.HousekeepingInterval);
        _metrics = new RelayMetrics(this);
    }

    public RelayServerOptions Options { get; }

    public Key PublicKey { get; }

    internal TimeProvider Time { get; }

    internal ILogger Logger => _logger;

    public bool IsShuttingDown => Volatile.Read(ref _shuttingDown) != 0;

    /// <summary>The problem reported to clients in Health frames ("" when healthy).</summary>
    public string Health => Volatile.Read(ref _health);

    public RelayStats Stats
    {
        get
        {
            var sum = new RelayCounters();
            sum.Add(_retired);
            int clients = 0, home = 0, mesh = 0, connections = 0;
            foreach (var (connection, _) in _connections)
            {
                sum.Add(connection.Counters);
                connections++;
                if (connection.IsMesh)
                {
                    mesh++;
                }
                else if (connection.IsRegistered)
                {
                    clients++;
                    home += connection.IsPreferred ? 1 : 0;
                }
            }

            lock (_links)
            {
                foreach (var link in _links)
                {
                    sum.MeshDrops += link.Drops;
                }
            }

            return new RelayStats
            {
                Connections = connections,
                Clients = clients,
                HomeClients = home,
                MeshPeersConnected = mesh,
                RemoteClients = _remote.Count,
                ClientsAccepted = sum.ClientsAccepted,
                HandshakesRefused = sum.HandshakesRefused,
                HandshakesFailed = sum.HandshakesFailed,
                PacketsForwarded = sum.PacketsForwarded,
                BytesForwarded = sum.BytesForwarded,
                DropsQueueFull = sum.DropsQueueFull,
                DropsUnknownDestination = sum.DropsUnknownDestination,
                MeshPacketsForwarded = sum.MeshPacketsForwarded,
                MeshDrops = sum.MeshDrops,
            };
        }
    }

    /// <summary>The mesh peers this relay connects to, whether each link is up, and why not.</summary>
    public IReadOnlyList<(Uri Url, bool Connected, string? LastError)> MeshLinks
    {
        get
        {
            lock (_links)
            {
                return [.. _links.Select(l => (l.Url, l.IsConnected, l.LastError))];
            }
        }
    }

    /// <summary>Starts the mesh links (<see cref="RelayEndpointRouteBuilderExtensions.MapRelay"/> does it when the host has started).</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        foreach (var url in Options.MeshPeers)
        {
            AddMeshPeer(url);
        }

        lock (_links)
        {
            foreach (var link in _links)
            {
                link.Start();
            }
        }
    }

    /// <summary>
    /// Adds a mesh peer (its relay URL, optionally with <c>#KEY</c>: see <see cref="RelayServerOptions.MeshPeers"/>)
    /// at run time; it is connected when the server has started.
    /// </summary>
    public void AddMeshPeer(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (Options.MeshKey is null)
        {
            throw new InvalidOperationException("a relay without a mesh key cannot mesh");
        }

        var (address, pinned) = MeshPeerUrl.Split(url);
        AddMeshPeer(address, pinned);
    }

    /// <summary>
    /// Adds a mesh peer at <paramref name="url"/> (no <c>#KEY</c> part) whose relay key is
    /// <paramref name="pinned"/> (null: trusted on first use), unless a link to that URL exists.
    /// </summary>
    public void AddMeshPeer(Uri url, Key? pinned)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (Options.MeshKey is null)
        {
            throw new InvalidOperationException("a relay without a mesh key cannot mesh");
        }

        lock (_links)
        {
            if (_links.Any(l => l.Url == url))
            {
                return;
            }

            var link = new MeshPeerLink(this, url, pinned, _meshPeerKeys, _loggers);
            _links.Add(link);
            if (Volatile.Read(ref _started) != 0 && !IsShuttingDown)
            {
                link.Start();
            }
        }
    }

    /// <summary>
    /// Closes the link to the mesh peer at <paramref name="url"/> (as added, without <c>#KEY</c>) and
    /// forgets the clients it reached; false when there was none.
    /// </summary>
    public async Task<bool> RemoveMeshPeerAsync(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        MeshPeerLink? link;
        lock (_links)
        {
            link = _links.FirstOrDefault(l => l.Url == url);
            if (link is null)
            {
                return false;
            }

            _links.Remove(link);
        }

        await link.DisposeAsync().ConfigureAwait(false);

        // After the close no event of the link can add a route back.
        RemoveAllRemote(link);
        return true;
    }

    /// <summary>Tells every client to reconnect later (Restarting) and closes the connections; new ones are refused.</summary>
    public void BeginShutdown()
    {
        if (Interlocked.Exchange(ref _shuttingDown, 1) != 0)
        {
            return;
        }

        LogShuttingDown(_logger, _connections.Count);
        foreach (var (connection, _) in _connections)
        {
            connection.Restart(Options.RestartReconnectIn, Options.RestartTryFor);
        }

        lock (_links)
        {
            foreach (var link in _links)
            {
                _ = link.DisposeAsync().AsTask();
            }
        }
    }

    /// <summary>Reports a problem to every client ("" or null: healthy again).</summary>
    public void SetHealth(string? problem)
    {
        problem ??= "";
        if (Interlocked.Exchange(ref _health, problem) == problem)
        {
            return;
        }

        foreach (var (connection, _) in _connections)
        {
            connection.SendHealth(problem);
        }
    }

    private static void Validate(RelayServerOptions o)
    {
        ArgumentNullException.ThrowIfNull(o.Admission, nameof(o.Admission));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.SendQueueLength, 1, nameof(o.SendQueueLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.SendQueueBytes, Protocol.RelayProtocol.MaxFrameLength, nameof(o.SendQueueBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MeshSendQueueLength, 1, nameof(o.MeshSendQueueLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MaxConnections, 1, nameof(o.MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(o.MaxConnectionsPerAddress, 1, nameof(o.MaxConnectionsPerAddress));
        ArgumentOutOfRangeException.ThrowIfNegative(o.RateLimitBytesPerSecond, nameof(o.RateLimitBytesPerSecond));
        ArgumentOutOfRangeException.ThrowIfNegative(o.RateLimitBurstBytes, nameof(o.RateLimitBurstBytes));
        foreach (var (value, name) in new[]
                 {
                     (o.HandshakeTimeout, nameof(o.HandshakeTimeout)), (o.KeepAliveInterval, nameof(o.KeepAliveInterval)),
                     (o.WriteTimeout, nameof(o.WriteTimeout)), (o.HousekeepingInterval, nameof(o.HousekeepingInterval)),
                 })
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero, name);
        }

        if (o.MeshPeers.Count > 0 && o.MeshKey is null)
        {
            throw new ArgumentException("mesh peers need a mesh key", nameof(o.MeshPeers));
        }

        if (o.MeshKey is { Length: > Protocol.RelayProtocol.MaxMeshKeyLength })
        {
            throw new ArgumentException($"the mesh key is {o.MeshKey.Length} characters; at most {Protocol.RelayProtocol.MaxMeshKeyLength} fit in a relay handshake", nameof(o.MeshKey));
        }

        foreach (var peer in o.MeshPeers)
        {
            _ = MeshPeerUrl.Split(peer);
        }
    }

    internal bool IsMeshKey(string presented)
    {
        if (_meshKeyHash is null)
        {
            return false;
        }

        // Hashing first makes the comparison constant-time whatever the lengths.
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        return CryptographicOperations.FixedTimeEquals(hash, _meshKeyHash);
    }

    internal void Opened(ClientConnection connection) => _connections.TryAdd(connection, 0);

    internal void Closed(ClientConnection connection)
    {
        _retired.Add(connection.Counters);
        _connections.TryRemove(connection, out _);
    }

    private void Housekeep()
    {
        var now = Time.GetTimestamp();
        foreach (var (connection, _) in _connections)
        {
            connection.Housekeep(now);
        }
    }

    public async ValueTask DisposeAsync()
    {
        BeginShutdown();
        _metrics.Dispose();
        await _housekeeping.DisposeAsync().ConfigureAwait(false);
        MeshPeerLink[] links;
        lock (_links)
        {
            links = [.. _links];
        }

        foreach (var link in links)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "relay shutting down: telling {Count} connections to reconnect")]
    private static partial void LogShuttingDown(ILogger logger, int count);
}
