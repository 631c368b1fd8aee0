namespace Trellis.Core.Control;

/// <summary>
/// Levels of the control protocol a node announces in <see cref="MapRequest.Protocol"/>, so the server
/// sends a newer form only to nodes that apply it and the older form to the rest. Each level includes
/// the ones before it.
/// </summary>
public static class ControlProtocol
{
    /// <summary>A node from before levels were announced: it applies removals only as listed ids.</summary>
    public const int Initial = 0;

    /// <summary>The node applies <see cref="MapDelta.PeersKept"/>.</summary>
    public const int PeersKept = 1;

    /// <summary>What this build of the node announces.</summary>
    public const int Current = PeersKept;
}
