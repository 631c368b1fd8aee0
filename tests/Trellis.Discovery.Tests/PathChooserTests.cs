using Trellis.Core.Transport;

namespace Trellis.Discovery.Tests;

public class PathChooserTests
{
    private static readonly Endpoint V4 = Parse("198.51.100.1:41641");
    private static readonly Endpoint V4b = Parse("10.0.0.1:41641");
    private static readonly Endpoint V6 = Parse("[2001:db8::1]:41641");

    /// <summary>A proven path: the least round trip of its latest pongs, by default enough of them to judge it.</summary>
    private static PathCandidate C(Endpoint e, double ms, int samples = PathChooser.MinSamples) => new(e, TimeSpan.FromMilliseconds(ms), samples);

    [Fact]
    public void Nothing_proven_chooses_nothing() => Assert.Null(PathChooser.Choose(null, []));

    [Fact]
    public void IPv6_wins_when_latencies_are_close() =>
        Assert.Equal(V6, PathChooser.Choose(null, [C(V4, 20), C(V6, 25)])!.Value.Endpoint);

    [Fact]
    public void IPv6_wins_even_when_somewhat_slower() =>
        Assert.Equal(V6, PathChooser.Choose(null, [C(V4, 10), C(V6, 19)])!.Value.Endpoint);

    [Fact]
    public void IPv4_wins_when_IPv6_is_much_slower() =>
        Assert.Equal(V4, PathChooser.Choose(null, [C(V4, 10), C(V6, 26)])!.Value.Endpoint);

    [Fact]
    public void The_fastest_path_of_a_family_is_chosen() =>
        Assert.Equal(V4b, PathChooser.Choose(null, [C(V4, 30), C(V4b, 10)])!.Value.Endpoint);

    [Fact]
    public void The_current_path_is_kept_for_a_small_gain() =>
        Assert.Equal(V4, PathChooser.Choose(V4, [C(V4, 10), C(V4b, 9)])!.Value.Endpoint);

    [Fact]
    public void The_current_path_is_left_for_a_clear_gain() =>
        Assert.Equal(V4b, PathChooser.Choose(V4, [C(V4, 10), C(V4b, 5)])!.Value.Endpoint);

    [Fact]
    public void Back_to_IPv6_only_when_comfortably_inside_the_line()
    {
        // 17 ms is under 10 * 1.5 + 10 = 25 (IPv6 would win from scratch) but over 10 * 1.2 + 4: stay on IPv4.
        Assert.Equal(V4, PathChooser.Choose(V4, [C(V4, 10), C(V6, 17)])!.Value.Endpoint);
        Assert.Equal(V6, PathChooser.Choose(V4, [C(V4, 10), C(V6, 13)])!.Value.Endpoint);
    }

    [Fact]
    public void One_fast_IPv4_pong_does_not_beat_IPv6()
    {
        // Under load a single pong can be tens of milliseconds late: one sample each proves nothing.
        Assert.Equal(V6, PathChooser.Choose(null, [C(V4, 1, samples: 1), C(V6, 30, samples: 1)])!.Value.Endpoint);

        // Nor does IPv4 win on many pongs against an IPv6 path with too few to judge.
        Assert.Equal(V6, PathChooser.Choose(null, [C(V4, 1, samples: RttWindow.Size), C(V6, 30, samples: PathChooser.MinSamples - 1)])!.Value.Endpoint);
    }

    [Fact]
    public void On_IPv4_a_newly_proven_IPv6_path_takes_over_at_once()
    {
        // IPv4 answered first; IPv6's first pong was slow, but one pong cannot show IPv4 consistently faster.
        Assert.Equal(V6, PathChooser.Choose(V4, [C(V4, 1, samples: RttWindow.Size), C(V6, 25, samples: 1)])!.Value.Endpoint);
    }

    [Fact]
    public void IPv4_wins_only_once_IPv6_is_consistently_much_slower()
    {
        Assert.Equal(V6, PathChooser.Choose(V6, [C(V4, 10), C(V6, 40, samples: PathChooser.MinSamples - 1)])!.Value.Endpoint);
        Assert.Equal(V4, PathChooser.Choose(V6, [C(V4, 10), C(V6, 40)])!.Value.Endpoint);
    }

    [Fact]
    public void Between_the_two_lines_neither_family_takes_over()
    {
        // 17 ms: over 10 * 1.2 + 4 (IPv4 kept) and under 10 * 1.5 + 10 (IPv6 kept). No flip-flop either way.
        Assert.Equal(V4, PathChooser.Choose(V4, [C(V4, 10), C(V6, 17)])!.Value.Endpoint);
        Assert.Equal(V6, PathChooser.Choose(V6, [C(V4, 10), C(V6, 17)])!.Value.Endpoint);
    }

    [Fact]
    public void IPv6_is_left_for_IPv4_when_much_slower() =>
        Assert.Equal(V4, PathChooser.Choose(V6, [C(V4, 10), C(V6, 40)])!.Value.Endpoint);

    private static Endpoint Parse(string s) => Endpoint.TryParse(s, out var e) ? e : throw new ArgumentException(s);
}
