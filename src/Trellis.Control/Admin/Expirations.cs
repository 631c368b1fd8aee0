using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Trellis.Control.Admin;

/// <summary>
/// When a key stops working, as people write it: a lifetime from now ("30m", "24h", "1h30m", "7d",
/// "2w") or a moment in ISO 8601 ("2026-12-31", "2026-12-31T18:00:00+01:00"; UTC when no offset).
/// Every key gets an expiry: absent means the default lifetime, and there is no "never".
/// </summary>
public static class Expirations
{
    /// <summary>Like headscale's pre-auth keys: long enough to set up a device, short if it leaks.</summary>
    public static readonly TimeSpan DefaultAuthKeyLifetime = TimeSpan.FromHours(1);

    public static readonly TimeSpan DefaultApiKeyLifetime = TimeSpan.FromDays(90);

    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);

    public static bool TryParse(string? text, DateTimeOffset now, TimeSpan defaultLifetime, out DateTimeOffset expiresAt, [NotNullWhen(false)] out string? error)
    {
        expiresAt = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            expiresAt = now + defaultLifetime;
            error = null;
            return true;
        }

        text = text.Trim();
        if (TryParseLifetime(text, out var lifetime))
        {
            if (lifetime <= TimeSpan.Zero || lifetime > MaxLifetime)
            {
                error = $"invalid expiration '{text}': a lifetime must be more than 0 and at most {MaxLifetime.TotalDays:0} days";
                return false;
            }

            expiresAt = now + lifetime;
            error = null;
            return true;
        }

        // Only date-shaped text: DateTimeOffset.TryParse alone would read "12" or "May" as moments.
        if (text.Length >= 10 && char.IsAsciiDigit(text[0]) && text[4] == '-'
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var moment))
        {
            if (moment <= now)
            {
                error = $"invalid expiration '{text}': that moment is already past";
                return false;
            }

            if (moment - now > MaxLifetime)
            {
                error = $"invalid expiration '{text}': at most {MaxLifetime.TotalDays:0} days from now";
                return false;
            }

            expiresAt = moment;
            error = null;
            return true;
        }

        error = $"invalid expiration '{text}': give a lifetime such as 30m, 24h, 7d, 1h30m, or an ISO 8601 time such as 2026-12-31T18:00:00Z";
        return false;
    }

    /// <summary>One or more number-unit pairs (s, m, h, d, w), summed.</summary>
    private static bool TryParseLifetime(string text, out TimeSpan lifetime)
    {
        lifetime = TimeSpan.Zero;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            // Nine digits bound every part well inside TimeSpan's range.
            if (i == start || i - start > 9 || i == text.Length)
            {
                return false;
            }

            var value = long.Parse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            var unit = text[i++] switch
            {
                's' => TimeSpan.FromSeconds(1),
                'm' => TimeSpan.FromMinutes(1),
                'h' => TimeSpan.FromHours(1),
                'd' => TimeSpan.FromDays(1),
                'w' => TimeSpan.FromDays(7),
                _ => TimeSpan.Zero,
            };
            if (unit == TimeSpan.Zero)
            {
                return false;
            }

            // Anything beyond the maximum saturates there (plus a tick), so no sum overflows.
            lifetime = value > MaxLifetime.Ticks / unit.Ticks || lifetime + (unit * value) > MaxLifetime
                ? MaxLifetime + TimeSpan.FromTicks(1)
                : lifetime + (unit * value);
        }

        return true;
    }
}
