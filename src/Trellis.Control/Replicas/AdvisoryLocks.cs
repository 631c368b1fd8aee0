namespace Trellis.Control.Replicas;

/// <summary>
/// The session-level advisory lock keys replicas share. Any constants work, as long as every
/// server on the database uses the same ones and they differ from the store's allocation lock.
/// </summary>
internal static class AdvisoryLocks
{
    /// <summary>Held exclusively by the one replica that runs maintenance.</summary>
    public const long Maintenance = 0x74726c6d61696e;

    /// <summary>Held shared by every running replica; exclusively only by a replica that starts alone.</summary>
    public const long Presence = 0x74726c70726573;

    /// <summary>
    /// The first half of the two-part lock each replica holds for its roster row (the row's id is
    /// the second): a space of its own, apart from the one-part keys above.
    /// </summary>
    public const int RosterSpace = 0x74726c72;
}
