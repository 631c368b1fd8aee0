using System.Net;
using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.WireGuard;

namespace Trellis.Node.Engine;

/// <summary>WireGuard peers and their allowed IPs, changed in place.</summary>
public sealed partial class WireGuardEngine
{
    private void ApplyPeers(IReadOnlyList<PlannedPeer> planned)
    {
        var wanted = new Dictionary<Key, PlannedPeer>(planned.Count);
        foreach (var p in planned)
        {
            wanted.Add(p.Key, p);
        }

        // Gone, or re-keyed (the old key is gone and the new one is added below): removing the
        // device peer takes its allowed IPs and sessions with it.
        foreach (var (_, applied) in _peers.Where(p => !wanted.ContainsKey(p.Key)).ToList())
        {
            RemoveAppliedPeer(applied, [.. _allowedIps.Where(a => a.Value == applied).Select(a => a.Key)]);
        }

        var added = new List<AppliedPeer>();
        foreach (var p in planned)
        {
            if (!_peers.TryGetValue(p.Key, out var applied))
            {
                applied = new AppliedPeer(p.Key, _device.AddPeer(p.Key));
                _peers.Add(p.Key, applied);
                if (!p.Plain)
                {
                    added.Add(applied);
                }

                LogPeerAdded(_logger, p.Id, p.Key.ToBase64(), p.Endpoint?.ToString() ?? "none");
            }

            applied.Id = p.Id;

            // Only when the map's choice changes: the device's endpoint also follows the peer when it
            // roams, and an unrelated map must not pull it back.
            if (EndpointFor(p.Key, p.Endpoint) is { } endpoint && applied.ChosenEndpoint != endpoint)
            {
                applied.Peer.SetEndpoint(endpoint);
                applied.ChosenEndpoint = endpoint;
            }
        }

        ApplyAllowedIps(planned);

        foreach (var applied in added)
        {
            StartKeepalives(applied);
        }

        Volatile.Write(ref _peerSnapshot, [.. _peers.Values.OrderBy(p => p.Id)]);
    }

    /// <summary>Removes a device peer, which takes its allowed IPs and sessions with it; <paramref name="held"/> are the prefixes it held.</summary>
    private void RemoveAppliedPeer(AppliedPeer applied, IReadOnlyList<IPNetwork> held)
    {
        applied.StopKeepaliveTimer();
        _device.RemovePeer(applied.Key);
        _peers.Remove(applied.Key);
        foreach (var prefix in held)
        {
            _allowedIps.Remove(prefix);
        }

        LogPeerRemoved(_logger, applied.Id, applied.Key.ToBase64());
    }

    /// <summary>
    /// Turns on persistent keepalives, which sends one at once and so starts the handshake now rather
    /// than when the first packet waits for it. Both nodes usually learn of each other from the same
    /// map update; if both initiated at once, each would answer the other's initiation and thereby
    /// forget its own, refuse the answer to it, and the tunnel would wait 5 s for a retry. So the node
    /// whose key sorts first starts at once and the other gives it <see cref="KeepaliveStagger"/> to
    /// do so (traffic of its own starts a handshake at any time regardless).
    /// </summary>
    private void StartKeepalives(AppliedPeer applied)
    {
        if (InitiatesFirst(_publicKey, applied.Key))
        {
            applied.Peer.SetPersistentKeepalive(PersistentKeepaliveSeconds);
            return;
        }

        applied.KeepaliveTimer = _time.CreateTimer(
            static state =>
            {
                var applied = (AppliedPeer)state!;
                if (!applied.Removed)
                {
                    applied.Peer.SetPersistentKeepalive(PersistentKeepaliveSeconds);
                }
            },
            applied,
            KeepaliveStagger,
            Timeout.InfiniteTimeSpan);
    }

    /// <summary>Which of two nodes starts the handshake when both add each other: the one whose key sorts first.</summary>
    internal static bool InitiatesFirst(Key own, Key peer) => string.CompareOrdinal(own.ToHex(), peer.ToHex()) < 0;

    /// <summary>Prefix by prefix, so a prefix that stays with its peer is never touched.</summary>
    private void ApplyAllowedIps(IReadOnlyList<PlannedPeer> planned)
    {
        var wanted = new Dictionary<IPNetwork, AppliedPeer>();
        foreach (var p in planned)
        {
            var owner = _peers[p.Key];
            foreach (var prefix in p.AllowedIps)
            {
                wanted[prefix] = owner;
            }
        }

        foreach (var (prefix, owner) in _allowedIps.ToList())
        {
            if (!wanted.TryGetValue(prefix, out var next) || next != owner)
            {
                _device.AllowedIps.Remove(prefix, owner.Peer);
                _allowedIps.Remove(prefix);
            }
        }

        foreach (var (prefix, owner) in wanted)
        {
            if (_allowedIps.TryAdd(prefix, owner))
            {
                _device.AllowedIps.Insert(prefix, owner.Peer);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} ({NodeKey}) added, endpoint {Endpoint}")]
    private static partial void LogPeerAdded(ILogger logger, long id, string nodeKey, string endpoint);

    [LoggerMessage(Level = LogLevel.Information, Message = "peer {Id} ({NodeKey}) removed")]
    private static partial void LogPeerRemoved(ILogger logger, long id, string nodeKey);

    /// <summary>A device peer the engine manages, with the map's last choices for it.</summary>
    private sealed class AppliedPeer(Key key, Peer peer)
    {
        private bool _removed;

        public Key Key { get; } = key;

        public Peer Peer { get; } = peer;

        public long Id { get; set; }

        public Endpoint? ChosenEndpoint { get; set; }

        /// <summary>Starts keepalives after the stagger; null when they started at once.</summary>
        public ITimer? KeepaliveTimer { get; set; }

        public bool Removed => Volatile.Read(ref _removed);

        public void StopKeepaliveTimer()
        {
            Volatile.Write(ref _removed, true);
            KeepaliveTimer?.Dispose();
        }
    }
}
