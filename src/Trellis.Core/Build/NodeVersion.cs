namespace Trellis.Core.Build;

/// <summary>
/// The version string a node reports (<see cref="Control.MapRequest.Version"/>) and its peers see
/// (<see cref="Control.PeerInfo.Version"/>): short, printable ASCII, checked by the server before it is kept.
/// </summary>
public static class NodeVersion
{
    public const int MaxLength = 64;

    /// <summary>Shown for a node that never said (one older than version reporting).</summary>
    public const string Unknown = "unknown";

    public static bool IsValid(string version) =>
        version.Length is > 0 and <= MaxLength && version.All(c => c is > ' ' and <= '~');

    /// <summary>Why <paramref name="version"/> cannot be kept, for the node's error message.</summary>
    public static string Problem(string version) =>
        version.Length > MaxLength
            ? $"the node's version is {version.Length} characters long; at most {MaxLength} are kept"
            : "the node's version must be printable ASCII without spaces";

    /// <summary>What to show for a version that may be absent.</summary>
    public static string Display(string? version) => string.IsNullOrEmpty(version) ? Unknown : version;

    internal static string Bounded(string version) => version.Length <= MaxLength ? version : version[..MaxLength];
}
