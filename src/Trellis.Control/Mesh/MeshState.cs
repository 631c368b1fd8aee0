using System.Collections.Concurrent;
using Trellis.Control.Policy;
using Trellis.Core.Build;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// The live mesh: every active node's peer entry and every connected map stream. A change to one
/// node builds that node's entry once and hands it (or a patch) to each connected session that may
/// see it: work proportional to the sessions it reaches, never a rebuild of every node's whole map.
/// Under an access policy each session keeps its view (visible peers, packet filter); a change is
/// compared against the views it can touch and only the difference is sent (see MeshState.Views.cs).
/// </summary>
public sealed partial class MeshState
{
    private readonly ConcurrentDictionary<long, PeerInfo> _nodes = new();
    private readonly ConcurrentDictionary<long, MeshSession> _sessions = new();

    // A node's entry is replaced and announced under its stripe, so two changes of one node reach
    // every session in the order they were made. Striped: a bounded set, nothing to clean up.
    // Lock order: a stripe, then _views.
    private readonly Lock[] _stripes = [.. Enumerable.Range(0, StripeCount).Select(_ => new Lock())];
    private const int StripeCount = 64;

    // node key -> node id, so a relay's admission check is one lookup
    private readonly ConcurrentDictionary<string, long> _byNodeKey = new(StringComparer.Ordinal);
    private readonly Func<RelayMap> _relayMap;
    private readonly IReadOnlyList<string> _overlayPrefixes;
    private readonly DnsConfig? _dns;
    private readonly TimeProvider? _sessionTime;

    /// <param name="sessionTime">The map streams' clock (keepalives, pacing); the system's unless a test fakes it.</param>
    public MeshState(Func<RelayMap> relayMap, IReadOnlyList<string> overlayPrefixes, DnsConfig? dns = null, TimeProvider? sessionTime = null)
    {
        _relayMap = relayMap;
        _overlayPrefixes = overlayPrefixes;
        _dns = dns;
        _sessionTime = sessionTime;
    }

    /// <summary>The overlay prefixes every map carries.</summary>
    public IReadOnlyList<string> OverlayPrefixes => _overlayPrefixes;

    /// <summary>The names settings every full map carries; null when names are off.</summary>
    public DnsConfig? Dns => _dns;

    public int NodeCount => _nodes.Count;

    public int SessionCount => _sessions.Count;

    public PeerInfo? Get(long id) => _nodes.GetValueOrDefault(id);

    /// <summary>The ids of every node in the mesh now.</summary>
    public long[] NodeIds => [.. _nodes.Keys];

    /// <summary>Whether an active node (registered, approved, not expired) holds this node key.</summary>
    public bool IsActiveNodeKey(string nodeKey) => _byNodeKey.ContainsKey(nodeKey);

    /// <summary>Adds or replaces a node's entry and tells every other session that may see it what changed.</summary>
    public void Upsert(PeerInfo info)
    {
        lock (StripeOf(info.Id))
        {
            UpsertLocked(info);
        }
    }

    /// <summary>
    /// Replaces the entry of a node that is still in the mesh, keeping what its connection reported
    /// (online, endpoints, home relay, peer relay, NAT mapping); does nothing when it has left (deleted, expired), so a late
    /// update never brings a node back.
    /// </summary>
    public bool ReplaceIfPresent(PeerInfo info)
    {
        lock (StripeOf(info.Id))
        {
            if (!_nodes.TryGetValue(info.Id, out var live))
            {
                return false;
            }

            UpsertLocked(info with { Online = live.Online, Endpoints = live.Endpoints, HomeRelay = live.HomeRelay, PeerRelay = live.PeerRelay, MappingVaries = live.MappingVaries });
            return true;
        }
    }

    private void UpsertLocked(PeerInfo info)
    {
        _nodes.TryGetValue(info.Id, out var old);
        if (old is not null && old.NodeKey != info.NodeKey)
        {
            _byNodeKey.TryRemove(new KeyValuePair<string, long>(old.NodeKey, info.Id));
        }

        _byNodeKey[info.NodeKey] = info.Id;

        var patch = old is null ? null : PatchBetween(old, info);
        if (patch is not null)
        {
            PatchLocked(info, patch);
        }
        else
        {
            ChangeMemberLocked(old, info);
        }
    }

    /// <summary>Only reachability changed: a patch to the sessions that see the node, the entry to the node itself.</summary>
    private void PatchLocked(PeerInfo info, PeerPatch patch)
    {
        _views.EnterReadLock();
        try
        {
            _nodes[info.Id] = info;
            if (patch is { Endpoints: null, HomeRelay: null, Online: null })
            {
                return; // nothing a peer can see changed
            }

            foreach (var (id, session) in _sessions)
            {
                if (id == info.Id)
                {
                    session.Update(d => d.SelfChanged(info));
                }
                else if (session.View.Sees(info.Id))
                {
                    var entry = EntryAsSent(session.View, info);
                    session.Update(d => d.Patched(patch, entry));
                }
            }
        }
        finally
        {
            _views.ExitReadLock();
        }
    }

    /// <summary>Removes a node (deleted, expired, logged out) from every map and ends its own stream.</summary>
    public void Remove(long id, string reason, string code = ControlErrorCodes.StreamEnded)
    {
        lock (StripeOf(id))
        {
            _views.EnterWriteLock();
            try
            {
                if (!_nodes.TryRemove(id, out var removed))
                {
                    return;
                }

                _byNodeKey.TryRemove(new KeyValuePair<string, long>(removed.NodeKey, id));

                if (_sessions.TryRemove(id, out var own))
                {
                    own.Close(reason, code);
                }

                RemoveMemberLocked(id);
            }
            finally
            {
                _views.ExitWriteLock();
            }
        }
    }

    /// <summary>
    /// Opens a map stream for an active node; its first message is the full map of what it may see,
    /// or, when the node described the map it holds (<paramref name="resume"/>, at protocol level
    /// <see cref="ControlProtocol.Resume"/>), one delta from that map to its view now.
    /// <paramref name="protocol"/> is the <see cref="ControlProtocol"/> level the node announced.
    /// </summary>
    public MeshSession Connect(long id, int protocol = ControlProtocol.Initial, MapResume? resume = null)
    {
        lock (StripeOf(id))
        {
            _views.EnterWriteLock();
            try
            {
                if (!_nodes.TryGetValue(id, out var self))
                {
                    throw new InvalidOperationException($"node {id} is not active");
                }

                var session = new MeshSession(id, ViewOfLocked(id), protocol, _sessionTime);
                if (_sessions.TryRemove(id, out var previous))
                {
                    previous.Close("replaced by a newer connection");
                }

                _sessions[id] = session;
                var resumed = resume is not null && protocol >= ControlProtocol.Resume ? ResumeLocked(self, session.View, resume) : null;
                session.SetFirst(resumed is null ? BuildFullMap(self, session.View) : resumed);
                return session;
            }
            finally
            {
                _views.ExitWriteLock();
            }
        }
    }

    /// <summary>Ends a stream; false when a newer connection of the node had already replaced it.</summary>
    public bool Disconnect(MeshSession session) =>
        _sessions.TryRemove(new KeyValuePair<long, MeshSession>(session.NodeId, session));

    private Lock StripeOf(long id) => _stripes[(int)((ulong)id % StripeCount)];

    private FullMap BuildFullMap(PeerInfo self, NodeView view)
    {
        var peers = new List<PeerInfo>(view.Visible?.Count ?? _nodes.Count);
        foreach (var (id, peer) in _nodes)
        {
            if (id != self.Id && view.Sees(id))
            {
                peers.Add(EntryForLocked(view, self.Id, peer));
            }
        }

        return new FullMap
        {
            Self = self,
            Peers = peers,
            RelayMap = _relayMap(),
            OverlayPrefixes = _overlayPrefixes,
            PacketFilter = view.Filter,
            Dns = _dns,
            ServerProtocol = ControlProtocol.Current,
            ServerVersion = BuildInfo.Short,
            Replicas = _replicaUrls,
        };
    }

    /// <summary>A patch when only reachability fields changed; null when the entry itself must be resent (a new version too: rare, at upgrades).</summary>
    private static PeerPatch? PatchBetween(PeerInfo old, PeerInfo now)
    {
        var sameIdentity = old with { Endpoints = now.Endpoints, HomeRelay = now.HomeRelay, Online = now.Online };
        if (!IdentityEquals(sameIdentity, now))
        {
            return null;
        }

        return new PeerPatch
        {
            Id = now.Id,
            Endpoints = old.Endpoints.SequenceEqual(now.Endpoints) ? null : now.Endpoints,
            HomeRelay = old.HomeRelay == now.HomeRelay ? null : now.HomeRelay,
            Online = old.Online == now.Online ? null : now.Online,
        };
    }

    private static bool IdentityEquals(PeerInfo a, PeerInfo b) =>
        a.Id == b.Id && a.Name == b.Name && a.NodeKey == b.NodeKey && a.DiscoKey == b.DiscoKey && a.User == b.User && a.PeerRelay == b.PeerRelay && a.MappingVaries == b.MappingVaries && a.Version == b.Version && a.KeyExpiry == b.KeyExpiry &&
        a.Addresses.SequenceEqual(b.Addresses) && a.AllowedIps.SequenceEqual(b.AllowedIps) && a.Tags.SequenceEqual(b.Tags) &&
        a.UserGroups.SequenceEqual(b.UserGroups);
}
