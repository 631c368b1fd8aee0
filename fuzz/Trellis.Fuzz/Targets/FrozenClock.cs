namespace Trellis.Fuzz.Targets;

/// <summary>
/// A clock that never moves, for targets that keep state with idle timeouts (the packet filter's
/// flow table): an input is judged the same however long the fuzzer has been running.
/// </summary>
public sealed class FrozenClock : TimeProvider
{
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private FrozenClock()
    {
    }

    public static FrozenClock Instance { get; } = new();

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => Now.Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
}
