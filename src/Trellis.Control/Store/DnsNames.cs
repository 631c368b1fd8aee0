using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Trellis.Control.Store;

/// <summary>
/// Rules for names that end up in DNS: node names, user names and tag names are all lowercase
/// RFC 1123 labels ([a-z0-9-], 1 to 63 characters, no hyphen at either end).
/// </summary>
public static class DnsNames
{
    public const int MaxLabelLength = 63;

    /// <summary>What a node is called when its hostname leaves nothing usable.</summary>
    public const string FallbackNodeName = "node";

    public const string TagPrefix = "tag:";

    public static bool IsValidLabel([NotNullWhen(true)] string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLabelLength || name[0] == '-' || name[^1] == '-')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!IsLabelChar(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Turns whatever hostname a device reports into a label: the first dot-separated part,
    /// lowercased, runs of other characters folded into one hyphen, cut to 63 characters.
    /// </summary>
    public static string SanitizeHostname(string? hostname)
    {
        var first = (hostname ?? string.Empty).Split('.', 2)[0];
        var sb = new StringBuilder(Math.Min(first.Length, MaxLabelLength));
        var pendingHyphen = false;
        foreach (var raw in first)
        {
            var c = char.ToLowerInvariant(raw);
            if (!IsLabelChar(c) || c == '-')
            {
                pendingHyphen = sb.Length > 0;
                continue;
            }

            if (pendingHyphen)
            {
                sb.Append('-');
                pendingHyphen = false;
            }

            sb.Append(c);
            if (sb.Length >= MaxLabelLength)
            {
                break;
            }
        }

        var label = sb.ToString(0, Math.Min(sb.Length, MaxLabelLength)).TrimEnd('-');
        return label.Length == 0 ? FallbackNodeName : label;
    }

    /// <summary>"{label}-{n}", with the label shortened so the result still fits in 63 characters.</summary>
    public static string WithSuffix(string label, int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        var suffix = "-" + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var room = MaxLabelLength - suffix.Length;
        var stem = label.Length > room ? label[..room].TrimEnd('-') : label;
        return stem + suffix;
    }

    /// <summary>User names are compared lowercase; anything else must already be a label.</summary>
    public static bool TryNormalizeUserName(string? name, [NotNullWhen(true)] out string? normalized, [NotNullWhen(false)] out string? error)
    {
        normalized = name?.ToLowerInvariant();
        if (IsValidLabel(normalized))
        {
            error = null;
            return true;
        }

        normalized = null;
        error = $"invalid user name '{name}': use 1 to {MaxLabelLength} letters, digits or hyphens, not starting or ending with a hyphen";
        return false;
    }

    /// <summary>Tags are "tag:{label}"; the result is lowercased, deduplicated and sorted.</summary>
    public static bool TryNormalizeTags(IEnumerable<string>? tags, [NotNullWhen(true)] out List<string>? normalized, [NotNullWhen(false)] out string? error)
    {
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags ?? [])
        {
            var lower = tag?.ToLowerInvariant();
            if (lower is null || !lower.StartsWith(TagPrefix, StringComparison.Ordinal) || !IsValidLabel(lower[TagPrefix.Length..]))
            {
                normalized = null;
                error = $"invalid tag '{tag}': tags look like 'tag:name' where name is a DNS label";
                return false;
            }

            set.Add(lower);
        }

        normalized = [.. set];
        error = null;
        return true;
    }

    private static bool IsLabelChar(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-';
}
