using System.Net;
using Microsoft.Extensions.Logging;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Server;

/// <summary>
/// Counts open node connections, in all and per <see cref="ClientNetwork"/>, and refuses those over
/// the bounds before the WebSocket upgrade. Every refusal is counted; a warning is logged at most
/// once per <see cref="WarningInterval"/> for each bound, saying how many were refused meanwhile,
/// so a flood does not flood the log.
/// </summary>
public sealed partial class ControlConnectionLimiter(
    int maxConnections, int maxPerNetwork, ConnectionCounters counters, TimeProvider time, ILogger logger)
{
    public static readonly TimeSpan WarningInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly Dictionary<IPNetwork, int> _perNetwork = []; // guarded by _lock
    private int _total; // guarded by _lock
    private Throttle _serverFull; // guarded by _lock
    private Throttle _networkFull; // guarded by _lock

    public enum Admission
    {
        Admitted,
        ServerFull,
        NetworkFull,
    }

    /// <param name="network">Null: counted in the total only.</param>
    public Admission TryEnter(IPNetwork? network)
    {
        lock (_lock)
        {
            if (_total >= maxConnections)
            {
                counters.RefusedForTotal();
                if (_serverFull.ShouldWarn(time, out var suppressed))
                {
                    LogServerFull(logger, maxConnections, suppressed);
                }

                return Admission.ServerFull;
            }

            var count = 0;
            if (network is { } n && maxPerNetwork > 0)
            {
                _perNetwork.TryGetValue(n, out count);
                if (count >= maxPerNetwork)
                {
                    counters.RefusedForNetwork();
                    if (_networkFull.ShouldWarn(time, out var suppressed))
                    {
                        LogNetworkFull(logger, n.ToString(), maxPerNetwork, suppressed);
                    }

                    return Admission.NetworkFull;
                }

                _perNetwork[n] = count + 1;
            }

            _total++;
            counters.Opened();
            return Admission.Admitted;
        }
    }

    /// <summary>Ends a connection <see cref="TryEnter"/> admitted.</summary>
    public void Exit(IPNetwork? network)
    {
        lock (_lock)
        {
            _total--;
            counters.Closed();
            if (network is { } n && _perNetwork.TryGetValue(n, out var count))
            {
                if (count <= 1)
                {
                    _perNetwork.Remove(n);
                }
                else
                {
                    _perNetwork[n] = count - 1;
                }
            }
        }
    }

    /// <summary>At most one warning per interval; counts the refusals it kept quiet about.</summary>
    private struct Throttle
    {
        private long _lastWarning;
        private bool _warned;
        private long _quiet;

        public bool ShouldWarn(TimeProvider time, out long suppressed)
        {
            if (_warned && time.GetElapsedTime(_lastWarning) < WarningInterval)
            {
                _quiet++;
                suppressed = 0;
                return false;
            }

            suppressed = _quiet;
            _quiet = 0;
            _warned = true;
            _lastWarning = time.GetTimestamp();
            return true;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a node connection: the server holds its maximum of {Limit} (max-connections); {Suppressed} more refused since the last warning")]
    private static partial void LogServerFull(ILogger logger, int limit, long suppressed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "refused a node connection from {Network}: it holds the maximum of {Limit} per address or IPv6 /64 (max-connections-per-address); {Suppressed} more refused since the last warning")]
    private static partial void LogNetworkFull(ILogger logger, string network, int limit, long suppressed);
}
