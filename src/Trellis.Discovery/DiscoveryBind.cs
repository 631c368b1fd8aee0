using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery;

/// <summary>
/// The "magic socket": the <see cref="IBind"/> WireGuard sends through. WireGuard addresses each
/// peer at one stable <see cref="SyntheticEndpoint"/>; this bind carries the packet over the peer's
/// best path: a direct UDP endpoint proven by a pong in the last 6.5 s, else the relay. It shares the
/// socket with discovery (pings, pongs, call-me-maybe) and STUN, and folds relayed packets into
/// <see cref="Receive"/>. It owns the inner bind. Files: Peers (the peer set), Send, Receive, Disco (pings and paths), Reprobe (prompt rounds after a change), Punch (rounds on while a peer has not answered), Observed (our endpoints as pongs report them), Tunnel (no path through the tunnel itself), Guess (port guessing between an easy and a hard NAT), PeerRelay (UDP through a peer that relays for others, when no direct path opens), Status.
/// </summary>
public sealed partial class DiscoveryBind : IBind
{
    private const int RelaySlots = 256;
    private const int RelaySlotSize = 4096;

    /// <summary>
    /// How long a relayed packet waits for a slot before it is dropped: long enough to ride out the
    /// receive thread being descheduled on a busy machine, short enough that a closed device is not waited on.
    /// </summary>
    private static readonly TimeSpan RelayRoomWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan TrustFor = TimeSpan.FromSeconds(6.5);
    private static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan ReprobeEvery = TimeSpan.FromSeconds(60);

    /// <summary>A direct path this fast (a LAN) skips the periodic re-probe and the heartbeat's pings to unproven candidates: nothing could beat it by much.</summary>
    private static readonly TimeSpan LanLatency = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan PingForgetAfter = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan PingBackAfter = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan TickEvery = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Call-me-maybe rounds one peer may start at once, then one per <see cref="CallMeMaybeEvery"/>;
    /// the rest are counted and dropped. An honest peer sends one per full round (at most every 3 s)
    /// and one per map change, which the burst absorbs.
    /// </summary>
    internal const int CallMeMaybeBurst = 4;
    internal static readonly TimeSpan CallMeMaybeEvery = TimeSpan.FromSeconds(2);

    private readonly IBind _inner;
    private readonly IRelayTransport? _relay;
    private readonly DiscoveryBindOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly DiscoSealer _sealer;
    private readonly long _trustTicks;
    private readonly long _idleTicks;
    private readonly long _callMeMaybeTicks;
    private readonly long _pongOverdueTicks;

    // Relayed WireGuard packets wait here (preallocated slots) for the receive thread.
    private readonly SlotQueue _relayQueue = new(RelaySlots, RelaySlotSize);
    private int _relayPending;
    private int _receiverWaiting;
    private int _wakePending;
    private readonly PacketBuffer[] _wakeBatch = [new PacketBuffer()];
    private readonly byte[] _wakePacket = new byte[WakeMagic.Length + 16];

    // Guarded by _peersLock (writers); readers take the published _table snapshot.
    private readonly object _peersLock = new();
    private readonly Queue<int> _freeIndexes = new();
    private int _nextIndex = 1;
    private volatile PeerTable _table = PeerTable.Empty;

    private readonly ConcurrentDictionary<Endpoint, PeerState> _byEndpoint = new();
    private readonly ConcurrentDictionary<DiscoTxId, PendingPing> _pending = new();
    private volatile Endpoint[] _localEndpoints = [];
    private volatile IReadOnlyDictionary<int, string> _regionCodes = new Dictionary<int, string>();

    // Disco sends (any thread) share one buffer under _discoLock.
    private readonly object _discoLock = new();
    private readonly PacketBuffer[] _discoBatch = [new PacketBuffer()];

    private readonly object _openLock = new();
    private volatile bool _closed = true;
    private ITimer? _timer;

    public DiscoveryBind(IBind inner, IRelayTransport? relay, DiscoveryBindOptions options)
    {
        _inner = inner;
        _relay = relay;
        _options = options;
        _time = options.Time;
        _logger = options.Logger ?? NullLogger.Instance;
        _sealer = new DiscoSealer(options.DiscoPrivateKey);
        _trustTicks = Ticks(TrustFor);
        _idleTicks = Ticks(IdleAfter);
        _callMeMaybeTicks = Ticks(CallMeMaybeEvery);
        _pongOverdueTicks = Ticks(PongOverdueAfter);
        InitReprobe();
        InitGuessing();
        InitPeerRelay();
        WakeMagic.CopyTo(_wakePacket);
        RandomNumberGenerator.Fill(_wakePacket.AsSpan(WakeMagic.Length));
        _wakePacket.CopyTo(_wakeBatch[0].Data);
        _wakeBatch[0].Length = _wakePacket.Length;
    }

    /// <summary>A datagram this bind sends itself to wake its receiver; the random tail makes it unforgeable.</summary>
    private static ReadOnlySpan<byte> WakeMagic => "TRLWAK"u8;

    public Key DiscoPublicKey => _sealer.PublicKey;

    public int BatchSize => _inner.BatchSize;

    public ushort Port => _inner.Port;

    public ushort Open(ushort port)
    {
        lock (_openLock)
        {
            var bound = _inner.Open(port);
            _wakeBatch[0].Endpoint = new Endpoint(_options.WakeAddress, bound);
            _relayQueue.Reopen();
            Volatile.Write(ref _relayPending, 0);
            _closed = false;
            _relay?.SetReceiver(OnRelayPacket);
            _timer ??= _time.CreateTimer(static s => ((DiscoveryBind)s!).OnTick(), this, TickEvery, TickEvery);
            lock (_reprobeLock)
            {
                _reprobeTimer ??= _time.CreateTimer(static s => ((DiscoveryBind)s!).OnReprobeTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _reprobeNextAt = long.MaxValue;
            }

            lock (_guessLock)
            {
                _guessTimer ??= _time.CreateTimer(static s => ((DiscoveryBind)s!).OnGuessStep(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                _guessTimerArmed = false;
            }

            return bound;
        }
    }

    public void SetMark(uint mark) => _inner.SetMark(mark);

    public void Close()
    {
        lock (_openLock)
        {
            _closed = true;
            _relayQueue.Close();
            _inner.Close();
            _timer?.Dispose();
            _timer = null;
            lock (_reprobeLock)
            {
                _reprobeTimer?.Dispose();
                _reprobeTimer = null;
            }

            lock (_guessLock)
            {
                _guessTimer?.Dispose();
                _guessTimer = null;
            }

            foreach (var peer in _table.ByNodeKey.Values)
            {
                StopGuessing(peer, keepWinner: false);
            }
        }
    }

    public void Dispose()
    {
        Close();
        _relay?.SetReceiver(null);
        _inner.Dispose();
    }

    /// <summary>This node's own candidate endpoints (local addresses, STUN-mapped, port-mapped), sent in CallMeMaybe.</summary>
    public void SetLocalEndpoints(IEnumerable<Endpoint> endpoints) => _localEndpoints = endpoints.Distinct().Take(DiscoCodec.MaxEndpoints).ToArray();

    /// <summary>Region codes for status.</summary>
    public void SetRelayMap(RelayMap map) => _regionCodes = map.Regions.ToDictionary(r => r.Id, r => r.Code);

    /// <summary>Called with every STUN packet arriving on the socket (from the receive thread).</summary>
    public StunPacketHandler? StunHandler { get; set; }

    /// <summary>The endpoint to give WireGuard for a peer; null when the peer is not set.</summary>
    public Endpoint? SyntheticEndpointOf(Key nodeKey) => _table.ByNodeKey.TryGetValue(nodeKey, out var p) ? p.Synthetic : null;

    /// <summary>Sends a raw datagram on the socket (e.g. a STUN request sharing the WireGuard port).</summary>
    public void SendRaw(Endpoint destination, ReadOnlySpan<byte> datagram)
    {
        lock (_discoLock)
        {
            var b = _discoBatch[0];
            datagram.CopyTo(b.Data);
            b.Offset = 0;
            b.Length = datagram.Length;
            b.Endpoint = destination;
            b.Local = default;
            _inner.Send(_discoBatch);
        }
    }

    private long Ticks(TimeSpan t) => (long)(t.TotalSeconds * _time.TimestampFrequency);

    /// <summary>The published peer set: never mutated, replaced whole by <see cref="SetPeers"/>.</summary>
    private sealed record PeerTable(PeerState?[] ByIndex, Dictionary<Key, PeerState> ByNodeKey, Dictionary<Key, PeerState> ByDiscoKey)
    {
        public static readonly PeerTable Empty = new([], [], []);
    }
}
