namespace Trellis.Control.Store;

/// <summary>A person or service account: owns nodes and the auth keys that register them.</summary>
public sealed class User
{
    public long Id { get; set; }

    /// <summary>Unique, a lowercase DNS label (it can appear in node DNS names).</summary>
    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
