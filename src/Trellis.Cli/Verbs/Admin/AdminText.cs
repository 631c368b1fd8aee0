using System.Globalization;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>How the tables show values: UTC times to the minute, "-" for nothing.</summary>
internal static class AdminText
{
    public const string None = "-";

    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture) : None;

    public static string List(IReadOnlyList<string> items) => items.Count == 0 ? None : string.Join(",", items);

    public static string YesNo(bool value) => value ? "yes" : "no";

    public static string Owner(string? user, IReadOnlyList<string> tags) => user ?? List(tags);

    /// <summary>"--tags server,db --tags tag:web" → tag:server, tag:db, tag:web (the "tag:" is optional).</summary>
    public static IReadOnlyList<string>? Tags(string[]? values)
    {
        var tags = (values ?? [])
            .SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(t => t.StartsWith("tag:", StringComparison.OrdinalIgnoreCase) ? t : "tag:" + t)
            .ToList();
        return tags.Count == 0 ? null : tags;
    }
}
