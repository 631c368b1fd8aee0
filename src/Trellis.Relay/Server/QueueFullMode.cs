namespace Trellis.Relay.Server;

/// <summary>What a client's full send queue does with one more packet.</summary>
public enum QueueFullMode
{
    /// <summary>Drop the oldest queued packet (the newest is likelier to still matter).</summary>
    DropOldest,

    /// <summary>Drop the packet being queued.</summary>
    DropNewest,
}
