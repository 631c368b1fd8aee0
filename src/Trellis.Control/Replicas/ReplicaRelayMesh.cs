using Microsoft.Extensions.Logging;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Relay.Server;

namespace Trellis.Control.Replicas;

/// <summary>
/// Keeps this replica's embedded relay meshed with the embedded relay of every other live replica,
/// as the roster lists them (<see cref="ReplicaDirectory"/> hands over each read): a link to each
/// one's public URL at <see cref="RelayNode.RelayPath"/>, its relay key pinned from its roster row,
/// a link closed when its replica leaves the roster or its key changes. Together the relays are one
/// region: a packet for a node homed on another replica's relay goes one hop over the link.
/// </summary>
public sealed partial class ReplicaRelayMesh(RelayServer relay, string selfOrigin, ILogger<ReplicaRelayMesh> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    // guarded by _gate
    private readonly Dictionary<Uri, Key> _linked = [];
    private readonly HashSet<string> _warned = new(StringComparer.Ordinal);

    /// <summary>The relay key this replica publishes in its roster row.</summary>
    public Key RelayKey => relay.PublicKey;

    /// <summary>The mesh peers linked now, by relay URL, with their pinned keys.</summary>
    public IReadOnlyDictionary<Uri, Key> Linked
    {
        get
        {
            _gate.Wait();
            try
            {
                return new Dictionary<Uri, Key>(_linked);
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    /// <summary>Where a replica's embedded relay is reached, from its public URL.</summary>
    public static Uri RelayUrl(Uri publicUrl) => new(publicUrl, RelayNode.RelayPath);

    /// <summary>Links to the relays of <paramref name="live"/> (this replica and those without a relay key left out) and unlinks the rest.</summary>
    public async Task UpdateAsync(IReadOnlyList<LiveReplica> live, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(live);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var wanted = new Dictionary<Uri, Key>();
            foreach (var replica in live)
            {
                if (replica.Origin == selfOrigin || replica.RelayKey is not { } key || !Uri.TryCreate(replica.Url, UriKind.Absolute, out var publicUrl))
                {
                    continue;
                }

                if (key == relay.PublicKey)
                {
                    // Two relays with one key cannot tell each other's links from their own.
                    if (_warned.Add(replica.Url))
                    {
                        LogSameKey(logger, replica.Url);
                    }

                    continue;
                }

                wanted[RelayUrl(publicUrl)] = key; // a later row (a restart at the same URL) wins
            }

            foreach (var (url, key) in _linked.ToList())
            {
                if (!wanted.TryGetValue(url, out var want) || want != key)
                {
                    await relay.RemoveMeshPeerAsync(url).ConfigureAwait(false);
                    _linked.Remove(url);
                    LogUnlinked(logger, url);
                }
            }

            foreach (var (url, key) in wanted)
            {
                if (_linked.TryAdd(url, key))
                {
                    relay.AddMeshPeer(url, key);
                    LogLinked(logger, url, key.ToBase64());
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "relay mesh: linking to the embedded relay of replica {Url} (relay key {RelayKey}, from the roster)")]
    private static partial void LogLinked(ILogger logger, Uri url, string relayKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "relay mesh: unlinking from {Url}: its replica left the roster or its relay key changed")]
    private static partial void LogUnlinked(ILogger logger, Uri url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "relay mesh: the replica at {Url} has this replica's own relay key (relay.key copied between data directories?), so their relays cannot mesh; move relay.key away on one of them and restart it, which makes a new one")]
    private static partial void LogSameKey(ILogger logger, string url);
}
