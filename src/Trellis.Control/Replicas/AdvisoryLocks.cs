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
}
