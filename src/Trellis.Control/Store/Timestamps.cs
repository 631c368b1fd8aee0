namespace Trellis.Control.Store;

/// <summary>
/// Every stored instant is UTC and whole microseconds: PostgreSQL keeps microseconds and rejects
/// non-UTC offsets, so normalising first makes both providers hand back exactly what was written.
/// </summary>
internal static class Timestamps
{
    public static DateTimeOffset Normalize(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTimeOffset(ticks - ticks % TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
    }

    public static DateTimeOffset? Normalize(DateTimeOffset? value) => value is { } v ? Normalize(v) : null;
}
