using System.Globalization;

namespace Trellis.Core;

/// <summary>Durations as operators read them in logs and messages ("0.9 s", "5 min", "24 h"), never TimeSpan's "00:00:00.8748864".</summary>
public static class Durations
{
    public static string Describe(TimeSpan duration)
    {
        var c = CultureInfo.InvariantCulture;
        return duration.TotalSeconds switch
        {
            < 1 => string.Create(c, $"{duration.TotalMilliseconds:0} ms"),
            < 10 => string.Create(c, $"{duration.TotalSeconds:0.#} s"),
            < 120 => string.Create(c, $"{duration.TotalSeconds:0} s"),
            < 7200 => string.Create(c, $"{duration.TotalMinutes:0.#} min"),
            < 172800 => string.Create(c, $"{duration.TotalHours:0.#} h"),
            _ => string.Create(c, $"{duration.TotalDays:0.#} d"),
        };
    }
}
