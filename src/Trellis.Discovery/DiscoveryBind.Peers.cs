using Trellis.Core.Keys;
using Trellis.Core.Transport;

namespace Trellis.Discovery;

/// <summary>
/// The peer set: map updates in, each peer's synthetic endpoint and candidate paths kept across
/// them, one owner per disco key, and the bound on each peer's candidates.
/// </summary>
public sealed partial class DiscoveryBind
{
    private long _pathsEvicted;

    /// <summary>Candidate paths dropped to make room for newer ones (a peer keeps at most 32).</summary>
    public long PathsEvicted => Interlocked.Read(ref _pathsEvicted);

    /// <summary>
    /// Replaces the peer set. Peers that stay keep their synthetic endpoint and proven paths; a new
    /// peer, new candidates or a new disco key start a discovery round at once. A disco key names
    /// one node: see <see cref="OwnsDiscoKey"/> for a map that gives one to several peers.
    /// </summary>
    public void SetPeers(IEnumerable<DiscoPeer> peers)
    {
        var rounds = new List<PeerState>();
        lock (_peersLock)
        {
            var old = _table;
            var wanted = new List<DiscoPeer>();
            var seen = new HashSet<Key>();
            var claims = new Dictionary<Key, int>();
            foreach (var p in peers)
            {
                if (seen.Add(p.NodeKey))
                {
                    wanted.Add(p);
                    claims[p.DiscoKey] = claims.GetValueOrDefault(p.DiscoKey) + 1;
                }
            }

            var byNode = new Dictionary<Key, PeerState>(wanted.Count);
            var byDisco = new Dictionary<Key, PeerState>(wanted.Count);
            foreach (var p in wanted)
            {
                var isNew = !old.ByNodeKey.TryGetValue(p.NodeKey, out var state);
                state ??= new PeerState(_freeIndexes.Count > 0 ? _freeIndexes.Dequeue() : _nextIndex++, p.NodeKey);
                var owns = OwnsDiscoKey(p, claims[p.DiscoKey], old);
                if (UpdatePeer(state, p, isNew, owns))
                {
                    rounds.Add(state);
                }

                byNode[p.NodeKey] = state;
                if (owns)
                {
                    byDisco[p.DiscoKey] = state;
                }
            }

            foreach (var (key, state) in old.ByNodeKey)
            {
                if (!byNode.ContainsKey(key))
                {
                    ForgetPeer(state);
                    _freeIndexes.Enqueue(state.Index);
                }
            }

            var byIndex = new PeerState?[byNode.Count == 0 ? 0 : byNode.Values.Max(s => s.Index) + 1];
            foreach (var s in byNode.Values)
            {
                byIndex[s.Index] = s;
            }

            _table = new PeerTable(byIndex, byNode, byDisco);
            RetainPeerRelayPairs(_table);
        }

        StartRounds(rounds);
    }

    /// <summary>
    /// Adds and removes peers, keeping every other one as it is: a delta's work, not the mesh's. False,
    /// changing nothing, when a peer added is in the set already or claims a disco key that another
    /// peer (or this node) holds, when a peer removed is not in the set, or when some peer is held off
    /// a shared disco key (whether it may take the key over is <see cref="SetPeers"/>' question).
    /// </summary>
    public bool ChangePeers(IReadOnlyList<DiscoPeer> added, IReadOnlyCollection<Key> removed)
    {
        ArgumentNullException.ThrowIfNull(added);
        ArgumentNullException.ThrowIfNull(removed);
        if (added.Count == 0 && removed.Count == 0)
        {
            return true;
        }

        var rounds = new List<PeerState>(added.Count);
        lock (_peersLock)
        {
            var old = _table;
            if (old.ByDiscoKey.Count != old.ByNodeKey.Count)
            {
                return false;
            }

            var claimed = new HashSet<Key>();
            foreach (var p in added)
            {
                if (old.ByNodeKey.ContainsKey(p.NodeKey) || p.DiscoKey == _sealer.PublicKey || old.ByDiscoKey.ContainsKey(p.DiscoKey) || !claimed.Add(p.DiscoKey))
                {
                    return false;
                }
            }

            foreach (var key in removed)
            {
                if (!old.ByNodeKey.ContainsKey(key))
                {
                    return false;
                }
            }

            var byNode = new Dictionary<Key, PeerState>(old.ByNodeKey);
            var byDisco = new Dictionary<Key, PeerState>(old.ByDiscoKey);
            var length = old.ByIndex.Length;
            foreach (var p in added)
            {
                // Indexes freed below are reused only by a later update, as in SetPeers: WireGuard may
                // still send to a removed peer's synthetic endpoint for a moment.
                var state = new PeerState(_freeIndexes.Count > 0 ? _freeIndexes.Dequeue() : _nextIndex++, p.NodeKey);
                UpdatePeer(state, p, isNew: true, ownsDiscoKey: true);
                rounds.Add(state);
                byNode.Add(p.NodeKey, state);
                byDisco.Add(p.DiscoKey, state);
                length = Math.Max(length, state.Index + 1);
            }

            var byIndex = new PeerState?[length];
            Array.Copy(old.ByIndex, byIndex, old.ByIndex.Length);
            foreach (var state in rounds)
            {
                byIndex[state.Index] = state;
            }

            foreach (var key in removed)
            {
                if (byNode.Remove(key, out var state))
                {
                    byDisco.Remove(state.DiscoKey);
                    byIndex[state.Index] = null;
                    ForgetPeer(state);
                    _freeIndexes.Enqueue(state.Index);
                }
            }

            _table = new PeerTable(byIndex, byNode, byDisco);
            RetainPeerRelayPairs(_table);
        }

        StartRounds(rounds);
        return true;
    }

    /// <summary>
    /// Applies the map's new view (candidates, home relay, relay offer) of peers already in the set
    /// with the same disco key, touching no other peer: a delta's work, not the mesh's. False, changing
    /// nothing, when any is not such a peer; <see cref="SetPeers"/> is due then.
    /// </summary>
    public bool UpdatePeers(IReadOnlyList<DiscoPeer> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var rounds = new List<PeerState>();
        lock (_peersLock)
        {
            // DiscoKey and DiscoOff are written only under _peersLock (UpdatePeer), so they read as set here.
            var table = _table;
            foreach (var p in peers)
            {
                if (!table.ByNodeKey.TryGetValue(p.NodeKey, out var state) || state.DiscoKey != p.DiscoKey)
                {
                    return false;
                }
            }

            var offersChanged = false;
            foreach (var p in peers)
            {
                var state = table.ByNodeKey[p.NodeKey];
                offersChanged |= state.OffersPeerRelay != p.PeerRelay;
                if (UpdatePeer(state, p, isNew: false, ownsDiscoKey: !state.DiscoOff))
                {
                    rounds.Add(state);
                }
            }

            if (offersChanged)
            {
                // Whether anyone offers to relay is kept for the send path: a new or withdrawn offer changes it.
                RetainPeerRelayPairs(table);
            }
        }

        StartRounds(rounds);
        return true;
    }

    /// <summary>A full round for each peer an update made due (outside the peers' lock), then port guessing it made due, not at the next tick.</summary>
    private void StartRounds(List<PeerState> rounds)
    {
        foreach (var state in rounds)
        {
            StartRound(state, full: true, reprobe: true);
        }

        ActOnHeldGuessOffers();
        OfferGuessesDue();
    }

    /// <summary>
    /// Whether the peer may use its disco key. Disco keys are public, so a second node can claim
    /// one; messages sealed with it would then prove paths for the wrong peer. When several peers
    /// claim one key, the peer that already held it keeps it (a copy cannot take over an
    /// established peer's paths) and, if none did, none gets it; a peer claiming ours never does.
    /// Without it a peer is reached over the relay only.
    /// </summary>
    private bool OwnsDiscoKey(DiscoPeer p, int claimants, PeerTable old)
    {
        if (p.DiscoKey == _sealer.PublicKey)
        {
            return false;
        }

        return claimants == 1 || (old.ByDiscoKey.TryGetValue(p.DiscoKey, out var holder) && holder.NodeKey == p.NodeKey);
    }

    /// <summary>Applies the map's view of a peer; true when a discovery round is due.</summary>
    private bool UpdatePeer(PeerState state, DiscoPeer p, bool isNew, bool ownsDiscoKey)
    {
        var due = isNew;
        lock (state.Sync)
        {
            if (!isNew && state.DiscoKey != p.DiscoKey)
            {
                // A new disco key is a restarted node: what we proved about the old one means nothing.
                _sealer.Forget(state.DiscoKey);
                ForgetPathsLocked(state);
                due = true;
            }

            state.DiscoKey = p.DiscoKey;
            state.HomeRelay = p.HomeRelay;
            state.OffersPeerRelay = p.PeerRelay;
            state.MappingVaries = p.MappingVaries;
            if (!ownsDiscoKey)
            {
                if (!state.DiscoOff)
                {
                    state.DiscoOff = true;
                    ForgetPathsLocked(state);
                    LogDiscoKeyShared(p.NodeKey.ToString(), p.DiscoKey.ToString());
                }

                return false;
            }

            if (state.DiscoOff)
            {
                state.DiscoOff = false;
                due = true;
            }

            var wanted = new HashSet<Endpoint>(p.Endpoints);
            foreach (var (e, path) in state.Paths.ToArray())
            {
                if (path.FromMap && !wanted.Contains(e))
                {
                    path.FromMap = false;
                    if (path.LastPong == 0)
                    {
                        state.Paths.Remove(e);
                        _byEndpoint.TryRemove(KeyValuePair.Create(e, state));
                    }
                }
            }

            foreach (var e in wanted)
            {
                var known = state.Paths.ContainsKey(e);
                due |= AddPathLocked(state, e, fromMap: true) is not null && !known;
            }
        }

        return due;
    }

    /// <summary>
    /// Adds or refreshes a candidate of the peer (peer.Sync held); forgets the one it displaced. Null
    /// for an endpoint inside a tunnel route (<see cref="SetTunnelRoutes"/>): every way a path is
    /// learned (map, call-me-maybe, ping source, pong) comes through here.
    /// </summary>
    private PathInfo? AddPathLocked(PeerState peer, in Endpoint endpoint, bool fromMap)
    {
        if (RefusedAsTunnel(endpoint))
        {
            return null;
        }

        var path = peer.AddPathLocked(endpoint, fromMap, out var evicted);
        if (evicted is { } gone)
        {
            _byEndpoint.TryRemove(KeyValuePair.Create(gone, peer));
            Interlocked.Increment(ref _pathsEvicted);
        }

        return path;
    }

    private void ForgetPeer(PeerState state)
    {
        lock (state.Sync)
        {
            _sealer.Forget(state.DiscoKey);
            ForgetPathsLocked(state);
        }

        StopGuessing(state, keepWinner: false);
    }

    private void ForgetPathsLocked(PeerState state)
    {
        foreach (var e in state.Paths.Keys)
        {
            _byEndpoint.TryRemove(KeyValuePair.Create(e, state));
        }

        state.Paths.Clear();
        state.Direct = null;
        ForgetLegLocked(state);
        state.RelayLatency = null;
    }
}
