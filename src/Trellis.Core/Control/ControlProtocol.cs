namespace Trellis.Core.Control;

/// <summary>
/// Levels of the control protocol. A node announces its level in <see cref="MapRequest.Protocol"/>, so
/// the server sends a newer form only to nodes that apply it and the older form to the rest; the server
/// announces its own in <see cref="FullMap.ServerProtocol"/>, so a node sends a newer message only to a
/// server that takes it (an older one would end the connection over a message it cannot parse). Each
/// level includes the ones before it.
/// </summary>
public static class ControlProtocol
{
    /// <summary>A node from before levels were announced: it applies removals only as listed ids.</summary>
    public const int Initial = 0;

    /// <summary>The node applies <see cref="MapDelta.PeersKept"/>.</summary>
    public const int PeersKept = 1;

    /// <summary>The server takes <see cref="PlainPeerReport"/> from gateways.</summary>
    public const int PlainPeerReports = 2;

    /// <summary>
    /// The server takes <see cref="MapRequest.Resume"/> and may answer it with a <see cref="MapDelta"/>
    /// (carrying <see cref="MapDelta.RelayMap"/>) instead of a full map; a node sends it only to a
    /// server that announced this level.
    /// </summary>
    public const int Resume = 3;

    /// <summary>What this build announces, as a node and as a server.</summary>
    public const int Current = Resume;
}
