namespace Trellis.Relay.Protocol;

/// <summary>The first byte of every relay frame. Unknown types are skipped, so new ones can be added.</summary>
public enum FrameType : byte
{
    /// <summary>Server to client, first: magic, the server's X25519 public key, a per-connection challenge.</summary>
    ServerKey = 0x01,

    /// <summary>Client to server, second: node public key, nonce, sealed <see cref="RelayClientInfo"/>.</summary>
    ClientInfo = 0x02,

    /// <summary>Server to client, third: nonce, sealed <see cref="RelayServerInfo"/> (which may carry a refusal).</summary>
    ServerInfo = 0x03,

    /// <summary>Client to server: destination node key, packet.</summary>
    SendPacket = 0x04,

    /// <summary>Server to client: source node key, packet.</summary>
    ReceivePacket = 0x05,

    /// <summary>Server to client, empty: keeps idle connections and the NATs on their way alive.</summary>
    KeepAlive = 0x06,

    /// <summary>Client to server, one byte: 1 when this relay is the client's home relay.</summary>
    NotePreferred = 0x07,

    /// <summary>Server to client: a node key and a <see cref="PeerGoneReason"/>.</summary>
    PeerGone = 0x08,

    /// <summary>Server to mesh watcher: a node key now connected here.</summary>
    PeerPresent = 0x09,

    /// <summary>Mesh peer to server: source key, destination key, packet. Delivered locally, never forwarded again.</summary>
    ForwardPacket = 0x0a,

    /// <summary>Mesh peer to server, empty: subscribe to PeerPresent/PeerGone for every local client.</summary>
    WatchConns = 0x10,

    /// <summary>Mesh peer to server: close the local client with this node key.</summary>
    ClosePeer = 0x11,

    /// <summary>Either way, 8 bytes echoed in a <see cref="Pong"/>.</summary>
    Ping = 0x12,

    /// <summary>The 8 bytes of the <see cref="Ping"/> answered.</summary>
    Pong = 0x13,

    /// <summary>Server to client, UTF-8 text: a problem with this relay; empty means healthy again.</summary>
    Health = 0x14,

    /// <summary>Server to client: reconnect in (ms, uint32), keep trying for (ms, uint32); the server is going down.</summary>
    Restarting = 0x15,
}

/// <summary>Why a <see cref="FrameType.PeerGone"/> was sent.</summary>
public enum PeerGoneReason : byte
{
    /// <summary>The peer was connected here (or at a mesh peer) and went away.</summary>
    Disconnected = 0,

    /// <summary>A packet was sent to a key this relay (and its mesh) does not know.</summary>
    NotHere = 1,
}
