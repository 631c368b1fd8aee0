using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

/// <summary>
/// A pair whose first punches all missed (nothing direct gets through yet) and that sends no
/// traffic keeps trying every 5 s for a minute, so it goes direct within 5 s of the way opening,
/// and then stops: on a fake clock.
/// </summary>
public sealed class RelayPunchTests : IDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(250);

    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task A_pair_whose_first_punches_missed_goes_direct_within_5_s_of_the_way_opening_without_traffic()
    {
        var blocked = true;
        var (a, b) = Blocked(() => Volatile.Read(ref blocked));
        await RunAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal("relay", b.Bind.GetStatus(a.NodeKey)!.Path);

        Volatile.Write(ref blocked, false);
        await RunAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("direct", a.Bind.GetStatus(b.NodeKey)!.Path);
        Assert.Equal("direct", b.Bind.GetStatus(a.NodeKey)!.Path);
        Assert.Equal(b.Local, a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint);
    }

    [Fact]
    public async Task A_pair_that_cannot_punch_keeps_trying_every_5_s_for_a_minute_then_stops()
    {
        var (a, b) = Blocked(() => true);
        await RunAsync(TimeSpan.FromSeconds(10));
        var afterPromptRounds = _bed.PingsSent(a.Local, b.Local);

        // 10 s to 60 s: A's own rounds and those B's call-me-maybes ask for, each side every 5 s.
        await RunAsync(TimeSpan.FromSeconds(50));
        var inWindow = _bed.PingsSent(a.Local, b.Local) - afterPromptRounds;
        Assert.InRange(inWindow, 2 * 8, 2 * 11);
        Assert.InRange(a.Bind.PunchRounds, 8, 12);

        // Bounded: once the minute is over nothing more, however long the pair stays on the relay.
        var atMinute = _bed.PingsSent(a.Local, b.Local);
        await RunAsync(TimeSpan.FromSeconds(120));
        Assert.InRange(_bed.PingsSent(a.Local, b.Local) - atMinute, 0, 2);
        Assert.Equal("relay", a.Bind.GetStatus(b.NodeKey)!.Path);
    }

    /// <summary>A pair that knows each other while every direct datagram between them is dropped as long as <paramref name="blocked"/> says so.</summary>
    private (TestNode A, TestNode B) Blocked(Func<bool> blocked)
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        _bed.Network.Drop = (source, destination, _) => blocked() && source != destination
            && (source == a.Local || source == b.Local) && (destination == a.Local || destination == b.Local);
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);
        a.Bind.SetPeers([b.AsPeer()]);
        b.Bind.SetPeers([a.AsPeer()]);
        return (a, b);
    }

    /// <summary>Moves the fake clock on in quarter seconds, no traffic, everything each step sent handled before the next.</summary>
    private async Task RunAsync(TimeSpan duration)
    {
        for (var t = TimeSpan.Zero; t < duration; t += Step)
        {
            _bed.Time.Advance(Step);
            await _bed.SettledAsync();
        }
    }

    public void Dispose() => _bed.Dispose();
}
