namespace Trellis.Control.NodeProtocol;

/// <summary>What a map stream message counts as in <see cref="ConnectionCounters.MapSent"/>.</summary>
internal enum MapMessageKind
{
    FullMap,

    /// <summary>A delta as the stream's first message: the answer to a node's map resume.</summary>
    Resume,

    Delta,

    /// <summary>Keepalives and closing errors.</summary>
    Other,
}
