using System.Net;
using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Discovery;
using Trellis.Net.Stun;
using Trellis.Net;
using Trellis.Node.Filter;
using Trellis.WireGuard;

namespace Trellis.Node.Engine;

/// <summary>
/// The data plane on a userspace WireGuard device: a TUN, one UDP transport, and the OS configuration
/// that sends the overlay's traffic into the TUN. Each <see cref="ApplyAsync"/> works out the difference
/// between the map and what was applied before and changes only that, so tunnels to peers that did
/// not change keep their sessions.
/// </summary>
/// <remarks>
/// Network namespaces are per thread on Linux. The TUN and the socket are created in the namespace of
/// the thread that constructs the engine; OS changes land where the <see cref="IOsNetworkConfig"/> puts
/// them (for <see cref="LinuxNetworkConfig"/>, partly the calling thread's). ApplyAsync does all its
/// work on the calling thread unless another apply holds the engine. A daemon lives in one namespace
/// and never notices; tests in private namespaces construct and call from a thread inside.
/// </remarks>
public sealed partial class WireGuardEngine : IEngine
{
    /// <summary>
    /// Seconds between keepalives to every peer, as Tailscale uses: short enough that NAT mappings and
    /// stateful firewalls (often 30 s for UDP) stay open in both directions even when the link is idle.
    /// </summary>
    public const int PersistentKeepaliveSeconds = 25;

    /// <summary>How long the second of two nodes waits before its first keepalive (see StartKeepalives): well under the 5 s handshake retry.</summary>
    public static readonly TimeSpan KeepaliveStagger = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IOsNetworkConfig _os;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly int _mtu;
    private readonly ITun _tun;
    private readonly IBind _bind;
    private readonly Device _device;
    private readonly EngineMetrics _metrics;
    private readonly Key _publicKey;
    private readonly SubnetRouter _router;
    private readonly ExitRouting _exit;
    private readonly GatewayRouting _gatewayRouting;

    // written under _gate by ApplyAsync, read by Status
    private ExitNodePlan? _exitNode;
    private readonly StatefulPacketFilter _filter;

    // guarded by _gate: what has been applied (a change that failed is not recorded, so it is retried)
    private readonly HashSet<InterfaceAddress> _addresses = [];
    private readonly HashSet<IPNetwork> _routes = [];
    private readonly Dictionary<Key, AppliedPeer> _peers = [];
    private readonly Dictionary<IPNetwork, AppliedPeer> _allowedIps = [];
    private bool _linkConfigured;
    private bool _disposed;

    // replaced (under _gate) after each apply; read by Status without a lock
    private AppliedPeer[] _peerSnapshot = [];

    /// <summary>Creates the TUN and the transport, sets the key and starts the device. Takes ownership of <paramref name="os"/>.</summary>
    public WireGuardEngine(EngineOptions options, IOsNetworkConfig os)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(os);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Mtu, EngineOptions.MinMtu, nameof(options));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Mtu, EngineOptions.MaxMtu, nameof(options));
        if (options.PrivateKey.IsZero)
        {
            throw new ArgumentException("the node's private key is missing (all zeros)", nameof(options));
        }

        _os = os;
        _privateKey = options.PrivateKey;
        _privateCa = options.PrivateCa;
        _logger = options.LoggerFactory.CreateLogger<WireGuardEngine>();
        _time = options.Time;
        _mtu = options.Mtu;
        _tun = options.CreateTun?.Invoke(options.TunName, options.Mtu) ?? new LinuxTun(options.TunName, options.Mtu);
        IBind? bind = null;
        Device? device = null;
        try
        {
            bind = options.CreateBind?.Invoke() ?? new UdpBind(time: options.Time);
            if (bind is UdpBind udp)
            {
                udp.SegmentationRefused += errno => LogSegmentationRefused(_logger, UdpBind.DescribeRefusal(errno));
            }

            if (options.DiscoPrivateKey is { } discoKey)
            {
                _relay = new RegionalRelays(ConnectRegion, options.Time, options.LoggerFactory.CreateLogger<RegionalRelays>());
                _relay.HomeChanged += _ => HomeRegionChanged?.Invoke();
                _discovery = new DiscoveryBind(bind, _relay, new DiscoveryBindOptions
                {
                    NodePublicKey = Crypto.X25519.PublicKey(options.PrivateKey),
                    DiscoPrivateKey = discoKey,
                    Time = options.Time,
                    Logger = options.LoggerFactory.CreateLogger<DiscoveryBind>(),

                    // Real sockets beside a real socket only: a test's in-memory network has no NAT to guess.
                    GuessSockets = options.CreateBind is null ? new UdpGuessSocketFactory() : null,
                });
                bind = _discovery;
                var discovery = _discovery;
                _stun = new StunClient(
                    (datagram, destination, _) =>
                    {
                        discovery.SendRaw(destination, datagram.Span);
                        return ValueTask.CompletedTask;
                    },
                    options.Time);
                var stun = _stun;
                _discovery.StunHandler = (packet, source) => stun.HandleDatagram(packet, source);
            }

            device = new Device(_tun, bind, options.Device, options.Time);
            _filter = new StatefulPacketFilter(options.Time, options.LoggerFactory.CreateLogger<StatefulPacketFilter>());
            device.InboundFilter = _filter; // allows all until a map brings a policy, recording flows from the start
            device.SetPrivateKey(options.PrivateKey);
            device.SetListenPort(options.ListenPort);
            device.Failed += OnDeviceFailed;
            device.Up();
        }
        catch
        {
            _ = _relay?.DisposeAsync();
            device?.Dispose();
            bind?.Dispose();
            _tun.Dispose();
            throw;
        }

        _bind = bind;
        _device = device;
        _publicKey = device.PublicKey!.Value;
        _router = new SubnetRouter(os, NftMasquerade.TableName(_tun.Name));
        _exit = new ExitRouting(os, _tun.Name);
        _gatewayRouting = new GatewayRouting(os, _tun.Name);
        _metrics = new EngineMetrics(Status, device.Counters);
        LogStarted(_logger, _tun.Name, device.ListenPort, _publicKey.ToBase64());
    }

    /// <summary>Raised once if the TUN or the socket fails for good (e.g. the interface was deleted); the owner should stop.</summary>
    public event Action<Exception>? Failed;

    public ushort ListenPort => _device.ListenPort;

    /// <summary>The interface name the kernel gave the TUN.</summary>
    public string InterfaceName => _tun.Name;

    /// <summary>This node's public key (its NodeKey), derived from the private key.</summary>
    public Key PublicKey => _publicKey;

    /// <summary>The WireGuard device, for tests that look at sessions.</summary>
    internal Device Device => _device;

    /// <inheritdoc/>
    /// <exception cref="AggregateException">Some OS changes failed; everything else was applied, and the failed changes are retried by the next apply.</exception>
    public async Task ApplyAsync(NetMap map, EngineSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(settings);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            cancellationToken.ThrowIfCancellationRequested();
            if (TryApplyPeerChanges(map, settings))
            {
                return;
            }

            _lastMap = null;
            var plan = EnginePlanner.Plan(map, settings, _publicKey);
            foreach (var problem in plan.Problems)
            {
                LogProblem(_logger, problem);
            }

            // Before peers: a peer the new policy brings in is filtered by it from its first packet.
            _filter.Update(map.PacketFilter);
            var failures = new List<Exception>();
            ConfigureLink(failures);
            ApplyAddresses(plan.Addresses, failures);

            // Peers before routes, so traffic the new routes bring in finds its peer; discovery before
            // peers, so each new peer already has its synthetic endpoint.
            ApplyDiscovery(map, plan.Routes, settings);
            ApplyPeers(plan.Peers);
            ApplyRoutes(plan.Routes, failures);
            _router.Apply(plan.SubnetRouter, failures);
            _exit.Apply(plan.ExitNode, failures);
            _gatewayRouting.Apply(plan.GatewayRoutes, failures);
            Volatile.Write(ref _exitNode, plan.ExitNode);
            if (failures.Count > 0)
            {
                throw new AggregateException($"{failures.Count} change(s) to {_tun.Name} failed and will be retried with the next map", failures);
            }

            (_lastMap, _lastSettings) = (map, settings);
            _peersStandAlone = PeersStandAlone(map, plan);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops the device, deletes the TUN (its addresses and routes go with it), removes the masquerade table and restores forwarding.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _metrics.Dispose();
            var failures = new List<Exception>();
            // Rules first: once the TUN is gone they would point at an empty table, and lookups fall through to the host's routes.
            _exit.Withdraw(failures);
            _gatewayRouting.Withdraw(failures);
            _router.Withdraw(failures);
            foreach (var failure in failures)
            {
                LogCleanupFailed(_logger, failure.Message);
            }

            foreach (var applied in _peers.Values)
            {
                applied.StopKeepaliveTimer();
            }

            await StopDiscoveryAsync().ConfigureAwait(false);
            _device.Failed -= OnDeviceFailed;
            _device.Dispose();
            _bind.Dispose();
            _tun.Dispose();
            _os.Dispose();
            Volatile.Write(ref _peerSnapshot, []);
            LogStopped(_logger, _tun.Name);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void OnDeviceFailed(Exception e)
    {
        LogDeviceFailed(_logger, _tun.Name, e.Message);
        Failed?.Invoke(e);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "engine up: {Interface}, WireGuard on UDP {Port}, node key {NodeKey}")]
    private static partial void LogStarted(ILogger logger, string @interface, ushort port, string nodeKey);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Refusal}")]
    private static partial void LogSegmentationRefused(ILogger logger, string refusal);

    [LoggerMessage(Level = LogLevel.Information, Message = "engine stopped: {Interface} deleted")]
    private static partial void LogStopped(ILogger logger, string @interface);

    [LoggerMessage(Level = LogLevel.Warning, Message = "map: {Problem}")]
    private static partial void LogProblem(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cleaning up: {Reason}")]
    private static partial void LogCleanupFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "the data plane on {Interface} stopped: {Reason}")]
    private static partial void LogDeviceFailed(ILogger logger, string @interface, string reason);
}
