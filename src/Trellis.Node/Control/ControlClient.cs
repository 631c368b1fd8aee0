using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Tls;
using Trellis.Crypto.Noise;

namespace Trellis.Node.Control;

/// <summary>
/// The node's side of the control protocol, the production version of a node speaking it: connects,
/// registers (asking again while an admin has not approved), opens the map stream and turns the full
/// map and each delta into a new <see cref="NetMap"/> on <see cref="Maps"/>. When the server is
/// unreachable or the connection drops it retries with exponential backoff and jitter; a refused
/// registration or a session the server ended is final (<see cref="ControlStatus.IsFinal"/>).
/// One client per `up`: to change server, hostname or auth key, stop it and start another.
/// </summary>
public sealed partial class ControlClient : IAsyncDisposable
{
    private readonly ControlClientOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReconnectBackoff _backoff;
    private readonly Channel<NetMap> _maps = Channel.CreateBounded<NetMap>(new BoundedChannelOptions(1)
    {
        // Each map is whole: a reader that fell behind needs only the newest.
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
        SingleWriter = true,
    });

    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _statusLock = new();
    private ControlStatus _status = new();
    private Task _loop = Task.CompletedTask;
    private volatile NoiseControlChannel? _streaming;
    private volatile NetMap? _current;
    private volatile IReadOnlyList<string> _routes;
    private string? _authKey;
    private int _started;
    private Key? _serverKey;
    private Key _nodeKey;

    // touched only by the loop: the map from an earlier run, until this client has one of its own,
    // and the map the last map request described (what an opening delta applies to)
    private ResumableMap? _held;
    private ResumableMap? _described;

    public ControlClient(ControlClientOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _backoff = new ReconnectBackoff(options.ReconnectBaseDelay, options.ReconnectMaxDelay);
        _authKey = options.AuthKey;
        _routes = options.AdvertisedRoutes;
        _serverKey = options.ServerKey;
        _nodeKey = options.NodeKey;
        _learned = options.LearnedServers;
        _held = options.Held;
        CurrentServer = options.Server;
    }

    public Uri Server => _options.Server;

    /// <summary>How many URLs the client dials in turn (<see cref="Servers"/>).</summary>
    public int ServerCount => Servers.Count;

    /// <summary>
    /// The URLs the client dials in turn after a failed or ended connection: the configured ones
    /// (<see cref="Server"/> first), then the replicas the last map named that are not among them.
    /// Learned URLs are dialed only once a server key is pinned, so a node never trusts on first use
    /// a key presented at a URL it was not given.
    /// </summary>
    public IReadOnlyList<Uri> Servers
    {
        get
        {
            var servers = new List<Uri>(1 + _options.OtherServers.Count + _learned.Count) { _options.Server };
            servers.AddRange(_options.OtherServers);
            if (ServerKey is not null)
            {
                foreach (var learned in _learned)
                {
                    if (!servers.Contains(learned))
                    {
                        servers.Add(learned);
                    }
                }
            }

            return servers;
        }
    }

    /// <summary>The URL the connection loop dials now (touched only by the loop).</summary>
    private Uri CurrentServer { get; set; }

    // The replicas' URLs the last map named (or the cached map, at start): written by the loop, read by anyone.
    private volatile IReadOnlyList<Uri> _learned;

    /// <summary>The server key this client trusts: the pinned one, else the one of its first completed handshake; null before that.</summary>
    public Key? ServerKey
    {
        get
        {
            lock (_statusLock)
            {
                return _serverKey;
            }
        }

        private set
        {
            lock (_statusLock)
            {
                _serverKey = value;
            }
        }
    }

    public ControlStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                return _status;
            }
        }
    }

    /// <summary>Raised on the client's loop after every change of <see cref="Status"/>; keep handlers short.</summary>
    public event Action<ControlStatus>? StatusChanged;

    /// <summary>Each new map, newest only if the reader falls behind. Completes when the client stops for good.</summary>
    public ChannelReader<NetMap> Maps => _maps.Reader;

    /// <summary>The latest map, or null before the first.</summary>
    public NetMap? Current
    {
        get => _current;
        private set => _current = value;
    }

    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("the control client was already started");
        }

        _loop = Task.Run(RunAsync);
    }

    /// <summary>Replaces the advertised routes: sent now if connected, and with every later registration.</summary>
    public async Task AdvertiseRoutesAsync(IReadOnlyList<string> routes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(routes);
        _routes = routes;
        await SendIfStreamingAsync(new RouteAdvertisement { Routes = routes }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Asks the server, on the running stream, how this active node's key is renewed before it expires;
    /// the answer arrives in <see cref="ControlStatus.RenewHint"/> (and <see cref="ControlStatus.RenewUrl"/>
    /// for a sign-in). The node stays connected and its key stays valid meanwhile. False when not streaming.
    /// </summary>
    public async Task<bool> RequestRenewalAsync(CancellationToken cancellationToken)
    {
        if (_streaming is not { } channel)
        {
            return false;
        }

        SetStatus(s => s with { RenewUrl = null, RenewHint = null });
        return await TrySendAsync(
            channel,
            Registration() with { AuthKey = null, Renew = true },
            cancellationToken).ConfigureAwait(false);
    }

    private async Task SendIfStreamingAsync(ControlMessage message, CancellationToken cancellationToken)
    {
        if (_streaming is { } channel)
        {
            await TrySendAsync(channel, message, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends on the stream; false when it is going away.</summary>
    private async Task<bool> TrySendAsync(NoiseControlChannel channel, ControlMessage message, CancellationToken cancellationToken)
    {
        try
        {
            await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException or ObjectDisposedException)
        {
            // The connection is going away; the loop reconnects and the next map request carries the news.
            LogSendFailed(_logger, message.GetType().Name, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Logs the machine out on the server (a one-off connection): the node leaves every map and its
    /// key is expired. Throws <see cref="ControlException"/> when the server cannot be reached.
    /// </summary>
    public static async Task LogoutAsync(Uri server, Key machineKey, Key? serverKey, PrivateCa? ca, TimeSpan timeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(server);
        var (channel, _) = await ControlDialer.ConnectAsync(server, machineKey, serverKey, ca, timeout, cancellationToken).ConfigureAwait(false);
        using var owned = channel;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await channel.SendAsync(new LogoutRequest(), deadline.Token).ConfigureAwait(false);

            // The server closes the channel once the logout is stored.
            while (await channel.ReceiveAsync(deadline.Token).ConfigureAwait(false) is not null)
            {
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ControlException(ControlErrorKind.Unreachable, $"the server did not confirm the logout within {timeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is System.Net.WebSockets.WebSocketException or IOException)
        {
            throw new ControlException(ControlErrorKind.Unreachable, $"the connection broke during the logout: {e.Message}", e);
        }
    }

    /// <summary>Ends the connection (closing it politely, so the server marks the node offline at once) and the loop.</summary>
    public async Task StopAsync()
    {
        if (_streaming is { } channel)
        {
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await channel.CloseAsync("node stopping", quick.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or IOException)
            {
                // going away regardless
            }
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private void SetStatus(Func<ControlStatus, ControlStatus> change)
    {
        ControlStatus next;
        lock (_statusLock)
        {
            next = _status = change(_status);
        }

        StatusChanged?.Invoke(next);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "control: {State} ({Server})")]
    private static partial void LogState(ILogger logger, ControlState state, string server);

    [LoggerMessage(Level = LogLevel.Information, Message = "control: running ({Server}), map session resumed without a full map: {Changed} peers changed, {Removed} removed")]
    private static partial void LogResumed(ILogger logger, string server, int changed, int removed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "control: {Error}; retrying in {Delay}")]
    private static partial void LogRetry(ILogger logger, string error, string delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "control: waiting for an admin's approval: {Hint}")]
    private static partial void LogPending(ILogger logger, string hint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "control: the node key expired; registering again with a new one")]
    private static partial void LogKeyExpired(ILogger logger);

    [LoggerMessage(Level = LogLevel.Error, Message = "control: {Error}")]
    private static partial void LogFinal(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "control: the server reports {Code}: {Message}")]
    private static partial void LogServerError(ILogger logger, string code, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "control: could not send {Message}: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, string message, string reason);
}
