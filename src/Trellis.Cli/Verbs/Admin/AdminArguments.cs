using Trellis.Control.Admin;
using Trellis.Control.Store;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>
/// Checks made before any request, by the same rules the server applies, so that a typo is a
/// usage error (exit 2) rather than a round trip.
/// </summary>
internal static class AdminArguments
{
    /// <summary>--expiration as given (the server resolves it against its own clock), if it parses.</summary>
    public static string? Expiration(string? text, TimeSpan defaultLifetime) =>
        Expirations.TryParse(text, DateTimeOffset.UtcNow, defaultLifetime, out _, out var error)
            ? text
            : throw AdminCommandException.Usage(error);

    /// <summary>A prefix as listed, or taken from a whole key (whose secret then never leaves this machine).</summary>
    public static string KeyPrefix(string text, string kind)
    {
        if (SecretKeys.TryParse(text, kind, out var prefix, out _))
        {
            return prefix;
        }

        return text.Length == SecretKeys.PrefixLength && text.All(char.IsAsciiLetterOrDigit)
            ? text.ToLowerInvariant()
            : throw AdminCommandException.Usage($"'{text}' is not a key prefix ({SecretKeys.PrefixLength} characters, as listed)");
    }

    /// <summary>CIDR prefixes in canonical form; host bits set or a missing length is a usage error.</summary>
    public static IReadOnlyList<string> RoutePrefixList(IEnumerable<string> texts)
    {
        var prefixes = new List<string>();
        foreach (var text in texts)
        {
            if (!RoutePrefixes.TryParse(text, out var prefix, out var error))
            {
                throw AdminCommandException.Usage(error);
            }

            prefixes.Add(prefix.ToString());
        }

        return prefixes;
    }
}
