namespace Trellis.Control.Admin;

/// <summary>
/// The access policy in force: its text exactly as given, where it lives ("database" or "file"),
/// the file's path, who set it and when (database), and its number of rules when known.
/// </summary>
public sealed record PolicyDto(
    string Policy,
    string Source,
    string? Path,
    string? UpdatedBy,
    DateTimeOffset? UpdatedAt,
    int? Rules);

/// <summary>A policy that compiled and passed its tests, not put in force: how many rules it has.</summary>
public sealed record PolicyCheckDto(int? Rules);
