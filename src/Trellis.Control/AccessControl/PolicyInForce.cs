using Trellis.Control.Policy;

namespace Trellis.Control.AccessControl;

/// <summary>Where the policy in force came from.</summary>
public enum PolicyOrigin
{
    /// <summary>No policy configured: every node reaches every other.</summary>
    None,

    /// <summary>Set through the admin API (`trellis policy set`), kept in the database.</summary>
    Database,

    /// <summary>Read from the configured policy file, reloaded when it changes.</summary>
    File,
}

/// <summary>The policy the server enforces now, with its text and where it came from.</summary>
public sealed record PolicyInForce(
    IAccessPolicy Policy,
    PolicyOrigin Origin,
    string? Text = null,
    int? Rules = null,
    string? Path = null,
    string? UpdatedBy = null,
    DateTimeOffset? UpdatedAt = null)
{
    public static PolicyInForce None { get; } = new(AllowAllPolicy.Instance, PolicyOrigin.None);

    /// <summary>"the database (set by X at T)" or "the file F", for logs.</summary>
    public string Describe() => Origin switch
    {
        PolicyOrigin.File => $"the file {Path}",
        PolicyOrigin.Database => $"the database (set by {UpdatedBy} at {UpdatedAt:u})",
        _ => "nowhere",
    };
}
