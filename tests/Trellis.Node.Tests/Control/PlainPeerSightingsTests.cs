using Trellis.Core.Control;
using Trellis.Node.Control;

namespace Trellis.Node.Tests.Control;

/// <summary>A gateway reports its plain peers' handshakes only when the server would conclude something new.</summary>
public class PlainPeerSightingsTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 5, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Time_passing_is_no_news_but_a_new_handshake_and_crossing_the_online_window_are()
    {
        var handshake = Now.AddSeconds(-30);
        PlainPeerSighting[] seen = [new(7, handshake), new(3, null)];
        var first = PlainPeerSightings.Gist(seen, Now);

        Assert.Equal(first, PlainPeerSightings.Gist(seen, Now.AddSeconds(60)));
        Assert.NotEqual(first, PlainPeerSightings.Gist([new(7, Now.AddSeconds(90)), new(3, null)], Now.AddSeconds(100)));
        var stale = PlainPeerSightings.Gist(seen, handshake + PlainPeerPresence.OnlineWindow);
        Assert.NotEqual(first, stale);
        Assert.False(stale.Single(s => s.Id == 7).Online);
    }

    [Fact]
    public void The_report_gives_ages_in_whole_seconds_in_id_order_and_none_for_a_peer_without_a_handshake()
    {
        var report = PlainPeerSightings.Report([new(7, Now.AddSeconds(-30.7)), new(3, null), new(5, Now.AddSeconds(4))], Now);

        Assert.Equal([(3L, (long?)null), (5L, 0L), (7L, 30L)], report.Peers.Select(p => (p.Id, p.AgeSeconds)));
        Assert.True(PlainPeerPresence.IsOnline(30));
        Assert.False(PlainPeerPresence.IsOnline(null));
        Assert.False(PlainPeerPresence.IsOnline(-1));
    }
}
