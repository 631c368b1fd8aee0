using Microsoft.Extensions.Logging;
using Trellis.Core.Keys;
using Trellis.Relay.Protocol;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Server;

/// <summary>Who is where, and moving packets to them. Packets are rewritten in the buffer they were read into.</summary>
public sealed partial class RelayServer
{
    private const int HeaderSize = RelayProtocol.HeaderSize;
    private const int PayloadOffset = RelayProtocol.PayloadOffset;

    /// <summary>A client's SendPacket (payload: destination key, packet): to a local client, or to the mesh peer that has it.</summary>
    internal void RouteSendPacket(ClientConnection sender, InFrame frame)
    {
        var buffer = frame.Buffer;
        var packetLength = frame.Length - Key.Size;
        var destination = new Key(buffer.AsSpan(PayloadOffset, Key.Size));
        if (_clients.TryGetValue(destination, out var target))
        {
            // ReceivePacket: the header goes in the room in front, the source key over the destination key.
            const int start = PayloadOffset - HeaderSize;
            FrameCodec.WriteHeader(buffer.AsSpan(start), FrameType.ReceivePacket, Key.Size + packetLength);
            sender.NodeKey.CopyTo(buffer.AsSpan(PayloadOffset));
            sender.NoteSentTo(target.Senders, target);
            Deliver(sender, target, new OutFrame(buffer, start, HeaderSize + Key.Size + packetLength), packetLength);
            return;
        }

        if (_remote.TryGetValue(destination, out var route))
        {
            // ForwardPacket: header and source key in the room in front of the destination key.
            FrameCodec.WriteHeader(buffer, FrameType.ForwardPacket, (2 * Key.Size) + packetLength);
            sender.NodeKey.CopyTo(buffer.AsSpan(HeaderSize));
            sender.NoteSentTo(route.Senders, route);
            if (route.Link.TryForward(new OutFrame(buffer, 0, HeaderSize + (2 * Key.Size) + packetLength)))
            {
                sender.Counters.MeshPacketsForwarded++;
            }
            else
            {
                sender.Counters.MeshDrops++;
            }

            return;
        }

        FramePool.Instance.Return(buffer);
        sender.Counters.DropsUnknownDestination++;
        sender.NotifyNotHere(destination);
    }

    /// <summary>A mesh peer's ForwardPacket (source, destination, packet): to a local client only, never on.</summary>
    internal void RouteForwardPacket(ClientConnection meshPeer, InFrame frame)
    {
        var buffer = frame.Buffer;
        var packetLength = frame.Length - (2 * Key.Size);
        var destination = new Key(buffer.AsSpan(PayloadOffset + Key.Size, Key.Size));
        if (!_clients.TryGetValue(destination, out var target))
        {
            FramePool.Instance.Return(buffer);
            meshPeer.Counters.DropsUnknownDestination++;
            return;
        }

        // ReceivePacket: the source key moves onto the destination key, the header goes in front of it.
        buffer.AsSpan(PayloadOffset, Key.Size).CopyTo(buffer.AsSpan(PayloadOffset + Key.Size));
        const int start = PayloadOffset + Key.Size - HeaderSize;
        FrameCodec.WriteHeader(buffer.AsSpan(start), FrameType.ReceivePacket, Key.Size + packetLength);
        Deliver(meshPeer, target, new OutFrame(buffer, start, HeaderSize + Key.Size + packetLength), packetLength);
    }

    /// <summary>Queues the frame for the target; its writer wakes once the source's reader has routed the whole burst it read.</summary>
    private static void Deliver(ClientConnection source, ClientConnection target, OutFrame frame, int packetLength)
    {
        var counters = source.Counters;
        var result = target.Queue.TryEnqueue(frame, deferWake: true);
        source.BurstWakes.Add(target.Queue);
        switch (result)
        {
            case EnqueueResult.Queued:
                counters.PacketsForwarded++;
                counters.BytesForwarded += packetLength;
                break;
            case EnqueueResult.QueuedDroppingOldest:
                counters.PacketsForwarded++;
                counters.BytesForwarded += packetLength;
                counters.DropsQueueFull++;
                break;
            default:
                counters.DropsQueueFull++;
                break;
        }
    }

    /// <summary>An admitted client becomes reachable; one already holding the key is replaced and closed.</summary>
    internal void Register(ClientConnection connection)
    {
        ClientConnection? replaced = null;
        lock (_registry)
        {
            _clients.AddOrUpdate(connection.NodeKey, connection, (_, old) =>
            {
                replaced = old;
                return connection;
            });
            foreach (var watcher in _watchers)
            {
                watcher.SendPeerPresent(connection.NodeKey);
            }
        }

        if (replaced is not null)
        {
            LogReplaced(_logger, connection.NodeKey.ToBase64());
            replaced.Abort();
        }
    }

    internal void Unregister(ClientConnection connection)
    {
        bool removed;
        lock (_registry)
        {
            removed = _clients.TryRemove(new KeyValuePair<Key, ClientConnection>(connection.NodeKey, connection));
            if (removed)
            {
                foreach (var watcher in _watchers)
                {
                    watcher.SendPeerGone(connection.NodeKey, PeerGoneReason.Disconnected);
                }
            }

            _watchers.Remove(connection);
        }

        if (removed)
        {
            TellSendersGone(connection.NodeKey, connection.Senders);
        }
    }

    /// <summary>A mesh peer subscribes: every local client now, then each arrival and departure.</summary>
    internal void Watch(ClientConnection meshPeer)
    {
        lock (_registry)
        {
            if (_watchers.Contains(meshPeer))
            {
                return;
            }

            _watchers.Add(meshPeer);
            foreach (var (key, _) in _clients)
            {
                meshPeer.SendPeerPresent(key);
            }
        }
    }

    internal void ClosePeer(Key key)
    {
        if (_clients.TryGetValue(key, out var connection))
        {
            connection.Abort();
        }
    }

    internal void AddRemote(Key key, MeshPeerLink link) =>
        _remote.AddOrUpdate(key, static (_, l) => new MeshRoute(l), static (_, existing, l) => existing.Link == l ? existing : new MeshRoute(l), link);

    internal void RemoveRemote(Key key, MeshPeerLink link)
    {
        if (_remote.TryGetValue(key, out var route) && route.Link == link && _remote.TryRemove(new KeyValuePair<Key, MeshRoute>(key, route)))
        {
            TellSendersGone(key, route.Senders);
        }
    }

    internal void RemoveAllRemote(MeshPeerLink link)
    {
        foreach (var (key, route) in _remote)
        {
            if (route.Link == link)
            {
                RemoveRemote(key, link);
            }
        }
    }

    /// <summary>PeerGone to the local clients that sent to <paramref name="key"/>, unless it is still reachable.</summary>
    private void TellSendersGone(Key key, RecentSenders senders)
    {
        if (_clients.ContainsKey(key) || _remote.ContainsKey(key))
        {
            return;
        }

        foreach (var sender in senders.TakeAll())
        {
            if (_clients.TryGetValue(sender, out var connection))
            {
                connection.SendPeerGone(key, PeerGoneReason.Disconnected);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {NodeKey} connected again; its previous connection is closed")]
    private static partial void LogReplaced(ILogger logger, string nodeKey);
}
