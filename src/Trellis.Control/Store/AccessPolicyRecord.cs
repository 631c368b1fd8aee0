namespace Trellis.Control.Store;

/// <summary>
/// The access policy set through the admin API: its text exactly as given (HuJSON, comments kept),
/// who set it and when. One row at most; none means no policy (every node reaches every other).
/// </summary>
public sealed class AccessPolicyRecord
{
    /// <summary>Always <see cref="SingletonId"/>: a deployment has one policy.</summary>
    public int Id { get; set; }

    public const int SingletonId = 1;

    /// <summary>Longest caller description kept (an API key prefix or "the local admin socket").</summary>
    public const int MaxUpdatedByLength = 128;

    public required string Text { get; set; }

    public required string UpdatedBy { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}
