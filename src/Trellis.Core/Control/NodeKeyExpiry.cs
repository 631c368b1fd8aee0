namespace Trellis.Core.Control;

/// <summary>When a node's key expiry becomes its user's business.</summary>
public static class NodeKeyExpiry
{
    /// <summary>
    /// From this long before its key expires a node warns (`trellis status`, `trellis up`) and the
    /// web console marks it; long enough to cover a fortnight's leave.
    /// </summary>
    public static readonly TimeSpan WarnBefore = TimeSpan.FromDays(14);
}
