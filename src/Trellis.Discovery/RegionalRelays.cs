using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Keys;

namespace Trellis.Discovery;

/// <summary>
/// The relays under the discovery bind: one connection to the home region, and on demand one to each
/// region a peer is homed in (at most <see cref="MaxOnDemand"/>, closed after <see cref="IdleTimeout"/>
/// without a packet either way). A packet for a peer goes to the peer's home region; while that
/// connection is not up, to the region the peer was last heard on, else home. Packets are received
/// on every open connection. <see cref="HomeRegionChooser"/> decides the home from STUN rounds and
/// from the home connection's health, checked every <see cref="CheckInterval"/>.
/// </summary>
public sealed partial class RegionalRelays : IRelayTransport, IAsyncDisposable
{
    /// <summary>Connections to regions other than home; beyond it the least recently used one closes.</summary>
    public const int MaxOnDemand = 4;

    /// <summary>A connection to a region other than home closes after this long without a packet either way.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How often the home connection's health and the idle connections are checked.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly Func<int, IRelayTransport?> _connect;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HomeRegionChooser _chooser;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();

    // guarded by _lock
    private readonly List<RegionConnection> _onDemand = [];
    private bool _disposed;

    // replaced under _lock, read by senders without it
    private volatile RegionConnection? _home;
    private volatile RegionConnection[] _onDemandSnapshot = [];
    private volatile FrozenSet<int> _dialable = FrozenSet<int>.Empty;
    private volatile RelayReceiver? _receiver;

    // each peer's home region: replaced whole or changed in place by the map's one writer, read by
    // every send and receive (a concurrent dictionary, so a delta changes a few entries, not all)
    private volatile ConcurrentDictionary<Key, int> _peerRegions = new();

    // written by the connections' receive threads: where each known peer was last heard
    private readonly ConcurrentDictionary<Key, int> _heardOn = new();

    /// <param name="connect">Opens (and starts) a connection to a region, or null when the map has no relay node there.</param>
    public RegionalRelays(Func<int, IRelayTransport?> connect, TimeProvider? time = null, ILogger? logger = null)
    {
        _connect = connect;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _chooser = new HomeRegionChooser(_time);
        _timer = _time.CreateTimer(static s => ((RegionalRelays)s!).Check(), this, CheckInterval, CheckInterval);
    }

    /// <summary>Raised (outside any lock) when the home region changed: report it to the control server.</summary>
    public event Action<int>? HomeChanged;

    /// <summary>The home region; 0 before a map with relays.</summary>
    public int RegionId => _home?.Region ?? 0;

    public bool IsAvailable => _home?.Transport.IsAvailable ?? false;

    /// <summary>The regions with an open connection besides home, for status.</summary>
    public IReadOnlyList<int> OnDemandRegions => [.. _onDemandSnapshot.Select(c => c.Region)];

    public void SetReceiver(RelayReceiver? receiver) => _receiver = receiver;

    /// <summary>The regions of the map that have relay nodes, in map order; may move home.</summary>
    public void SetRegions(IReadOnlyList<int> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        bool moved;
        lock (_lock)
        {
            _dialable = regions.ToFrozenSet();
            foreach (var gone in _onDemand.Where(c => !_dialable.Contains(c.Region)).ToList())
            {
                CloseLocked(gone);
            }

            moved = _chooser.SetRegions(regions) | ConnectHomeLocked();
        }

        RaiseIf(moved);
    }

    /// <summary>A region's relay node changed in the map: an open connection there is replaced by one to the new node.</summary>
    public void Redial(int region)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_home is { } home && home.Region == region)
            {
                if (OpenLocked(region) is { } fresh)
                {
                    _home = fresh;
                    Discard(home);
                }

                return;
            }

            var index = _onDemand.FindIndex(c => c.Region == region);
            if (index >= 0 && OpenLocked(region) is { } replacement)
            {
                var old = _onDemand[index];
                _onDemand[index] = replacement;
                _onDemandSnapshot = [.. _onDemand];
                Discard(old);
            }
        }
    }

    /// <summary>Each peer's home region from the map (0: not known, send home).</summary>
    public void SetPeerRegions(IReadOnlyDictionary<Key, int> regions)
    {
        ArgumentNullException.ThrowIfNull(regions);
        _peerRegions = new ConcurrentDictionary<Key, int>(regions);
        foreach (var key in _heardOn.Keys)
        {
            if (!regions.ContainsKey(key))
            {
                _heardOn.TryRemove(key, out _);
            }
        }
    }

    /// <summary>Some peers' home regions set (new or moved) and others' dropped, the rest kept: a delta's work, not the mesh's.</summary>
    public void ChangePeerRegions(IEnumerable<KeyValuePair<Key, int>> set, IEnumerable<Key> removed)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(removed);
        var regions = _peerRegions;
        foreach (var (key, region) in set)
        {
            regions[key] = region;
        }

        foreach (var key in removed)
        {
            regions.TryRemove(key, out _);
            _heardOn.TryRemove(key, out _);
        }
    }

    /// <summary>One round of STUN latencies per region in milliseconds (null: no answer); may move home.</summary>
    public void ReportLatencies(IReadOnlyDictionary<int, double?> latencies)
    {
        bool moved;
        lock (_lock)
        {
            moved = !_disposed && _chooser.ReportLatencies(latencies) && ConnectHomeLocked();
        }

        RaiseIf(moved);
    }

    public bool TrySend(Key nodeKey, ReadOnlySpan<byte> packet) => Route(nodeKey) is { } connection && connection.TrySend(nodeKey, packet, _time, queue: false);

    public bool TryQueue(Key nodeKey, ReadOnlySpan<byte> packet) => Route(nodeKey) is { } connection && connection.TrySend(nodeKey, packet, _time, queue: true);

    public void Flush()
    {
        _home?.Transport.Flush();
        foreach (var connection in _onDemandSnapshot)
        {
            connection.Transport.Flush();
        }
    }

    /// <summary>The connection a packet for <paramref name="nodeKey"/> goes through; null when there is none.</summary>
    private RegionConnection? Route(Key nodeKey)
    {
        var home = _home;
        var region = PeerRegion(nodeKey, home);
        if (home is not null && region == home.Region)
        {
            return home;
        }

        // The peer answers through our home region: a home relay that stopped forwarding shows there.
        home?.Transport.ExpectReply();
        if ((Find(region) ?? Dial(region)) is { } theirs && theirs.Transport.IsAvailable)
        {
            return theirs;
        }

        // Their region is not reachable now (connecting, or down while the peer moves home): where
        // they were last heard works if they keep a connection there, and home costs nothing to try.
        return Up(LastHeard(nodeKey, home)) ?? home;
    }

    /// <summary>
    /// The region <see cref="Route"/> would send through without dialling, so status names the
    /// relay that carries the packets (the last-heard one while the peer's region is connecting).
    /// </summary>
    public int? RegionFor(Key nodeKey)
    {
        var home = _home;
        var region = PeerRegion(nodeKey, home);
        var chosen = home is not null && region == home.Region ? Up(home) : Up(Find(region)) ?? Up(LastHeard(nodeKey, home)) ?? Up(home);
        return chosen?.Region;
    }

    private int PeerRegion(Key nodeKey, RegionConnection? home) =>
        _peerRegions.TryGetValue(nodeKey, out var r) && r != 0 ? r : home?.Region ?? 0;

    private RegionConnection? LastHeard(Key nodeKey, RegionConnection? home) =>
        _heardOn.TryGetValue(nodeKey, out var heard) ? (heard == home?.Region ? home : Find(heard)) : null;

    private static RegionConnection? Up(RegionConnection? connection) => connection is { Transport.IsAvailable: true } ? connection : null;

    private RegionConnection? Find(int region)
    {
        foreach (var c in _onDemandSnapshot)
        {
            if (c.Region == region)
            {
                return c;
            }
        }

        return null;
    }

    /// <summary>Opens a connection to a peer's region, once; the least recently used one closes beyond the bound.</summary>
    private RegionConnection? Dial(int region)
    {
        if (!_dialable.Contains(region))
        {
            return null;
        }

        lock (_lock)
        {
            if (_disposed)
            {
                return null;
            }

            if (_home?.Region == region)
            {
                return _home;
            }

            if (Find(region) is { } existing)
            {
                return existing;
            }

            if (_onDemand.Count >= MaxOnDemand)
            {
                CloseLocked(_onDemand.MinBy(c => c.LastUsed)!);
            }

            if (OpenLocked(region) is not { } opened)
            {
                return null;
            }

            _onDemand.Add(opened);
            _onDemandSnapshot = [.. _onDemand];
            LogDialled(_logger, region);
            return opened;
        }
    }

    /// <summary>Makes the chooser's home the home connection: an open connection there is promoted, the old home kept on demand.</summary>
    private bool ConnectHomeLocked()
    {
        var want = _chooser.Home;
        var old = _home;
        if (old?.Region == want || _disposed)
        {
            return false;
        }

        var next = _onDemand.Find(c => c.Region == want);
        if (next is not null)
        {
            _onDemand.Remove(next);
        }
        else if (want != 0)
        {
            next = OpenLocked(want);
        }

        if (old is not null)
        {
            // Peers that still think we live there reach us until they learn otherwise (or it idles out).
            old.Touch(_time);
            _onDemand.Add(old);
            while (_onDemand.Count > MaxOnDemand)
            {
                CloseLocked(_onDemand.MinBy(c => c.LastUsed)!);
            }
        }

        _home = next;
        _onDemandSnapshot = [.. _onDemand];
        LogHome(_logger, want, _chooser.Reason);
        return true;
    }

    private RegionConnection? OpenLocked(int region)
    {
        if (_connect(region) is not { } transport)
        {
            return null;
        }

        var connection = new RegionConnection(region, transport);
        connection.Touch(_time);
        transport.SetReceiver(connection.Receiver(this));
        return connection;
    }

    private void CloseLocked(RegionConnection connection)
    {
        _onDemand.Remove(connection);
        _onDemandSnapshot = [.. _onDemand];
        LogClosed(_logger, connection.Region);
        Discard(connection);
    }

    private static void Discard(RegionConnection connection)
    {
        connection.Transport.SetReceiver(null);
        _ = CloseAsync(connection.Transport);
    }

    private void Received(RegionConnection connection, Key source, ReadOnlySpan<byte> packet)
    {
        connection.Touch(_time);
        if (_peerRegions.ContainsKey(source) && (!_heardOn.TryGetValue(source, out var region) || region != connection.Region))
        {
            _heardOn[source] = connection.Region;
        }

        _receiver?.Invoke(source, packet);
    }

    /// <summary>Every <see cref="CheckInterval"/>: fail over from a home that stays down, close idle connections.</summary>
    private void Check()
    {
        bool moved;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            moved = _home is { } home && _chooser.ReportConnection(home.Transport.IsAvailable) && ConnectHomeLocked();
            var now = _time.GetTimestamp();
            foreach (var idle in _onDemand.Where(c => _time.GetElapsedTime(c.LastUsed, now) >= IdleTimeout).ToList())
            {
                CloseLocked(idle);
            }
        }

        RaiseIf(moved);
    }

    private void RaiseIf(bool moved)
    {
        if (moved)
        {
            HomeChanged?.Invoke(RegionId);
        }
    }

    private static async Task CloseAsync(IRelayTransport transport)
    {
        if (transport is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        RegionConnection[] all;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            all = [.. _onDemand, .. _home is { } home ? [home] : Array.Empty<RegionConnection>()];
            _onDemand.Clear();
            _onDemandSnapshot = [];
            _home = null;
        }

        await _timer.DisposeAsync().ConfigureAwait(false);
        foreach (var connection in all)
        {
            connection.Transport.SetReceiver(null);
            await CloseAsync(connection.Transport).ConfigureAwait(false);
        }
    }

    /// <summary>One open connection to a region and when a packet last crossed it.</summary>
    private sealed class RegionConnection(int region, IRelayTransport transport)
    {
        private long _lastUsed;

        public int Region { get; } = region;

        public IRelayTransport Transport { get; } = transport;

        public long LastUsed => Volatile.Read(ref _lastUsed);

        public void Touch(TimeProvider time) => Volatile.Write(ref _lastUsed, time.GetTimestamp());

        /// <param name="queue">One packet of a batch (<see cref="IRelayTransport.TryQueue"/>), sent at the batch's Flush.</param>
        public bool TrySend(Key nodeKey, ReadOnlySpan<byte> packet, TimeProvider time, bool queue)
        {
            if (!(queue ? Transport.TryQueue(nodeKey, packet) : Transport.TrySend(nodeKey, packet)))
            {
                return false;
            }

            Touch(time);
            return true;
        }

        public RelayReceiver Receiver(RegionalRelays owner) => (source, packet) => owner.Received(this, source, packet);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "home relay region {Region}: {Reason}")]
    private static partial void LogHome(ILogger logger, int region, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay region {Region} dialled: a peer is homed there")]
    private static partial void LogDialled(ILogger logger, int region);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay region {Region} closed (idle, or no longer needed)")]
    private static partial void LogClosed(ILogger logger, int region);
}
