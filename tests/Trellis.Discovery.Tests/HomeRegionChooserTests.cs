using Microsoft.Extensions.Time.Testing;

namespace Trellis.Discovery.Tests;

public class HomeRegionChooserTests
{
    private readonly FakeTimeProvider _time = new();

    private HomeRegionChooser Chooser(params int[] regions)
    {
        var chooser = new HomeRegionChooser(_time);
        chooser.SetRegions(regions);
        return chooser;
    }

    private static Dictionary<int, double?> Round(params (int Region, double? Ms)[] latencies) =>
        latencies.ToDictionary(l => l.Region, l => l.Ms);

    [Fact]
    public void Before_any_measurement_the_lowest_region_is_home_so_relayed_traffic_can_flow()
    {
        var chooser = Chooser(902, 901);
        Assert.Equal(901, chooser.Home);
    }

    [Fact]
    public void The_first_answering_round_picks_the_fastest_region_not_the_lowest_id()
    {
        var chooser = Chooser(901, 902);
        Assert.True(chooser.ReportLatencies(Round((901, 80), (902, 12))));
        Assert.Equal(902, chooser.Home);
    }

    [Fact]
    public void A_round_with_no_answers_at_all_changes_nothing()
    {
        var chooser = Chooser(901, 902);
        Assert.False(chooser.ReportLatencies(Round((901, null), (902, null))));
        Assert.Equal(901, chooser.Home);

        // UDP came back: the first round that answers still chooses at once.
        Assert.True(chooser.ReportLatencies(Round((901, 50), (902, 5))));
        Assert.Equal(902, chooser.Home);
    }

    [Fact]
    public void A_region_a_few_milliseconds_faster_never_moves_the_home()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 20), (902, 30)));
        for (var i = 0; i < 10; i++)
        {
            Assert.False(chooser.ReportLatencies(Round((901, 20), (902, 14))));
        }

        Assert.Equal(901, chooser.Home);
    }

    [Fact]
    public void A_clearly_faster_region_takes_over_only_after_several_rounds_in_a_row()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 60), (902, 80)));
        Assert.Equal(901, chooser.Home);

        // The home's best over the window stays 60 ms; 902 drops to 10 ms.
        for (var i = 1; i < HomeRegionChooser.RoundsToMove; i++)
        {
            Assert.False(chooser.ReportLatencies(Round((901, 60), (902, 10))));
        }

        Assert.True(chooser.ReportLatencies(Round((901, 60), (902, 10))));
        Assert.Equal(902, chooser.Home);
    }

    [Fact]
    public void One_noisy_round_of_the_home_does_not_move_it()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 10), (902, 15)));

        // A burst of load: the home answers slowly once, then normally; its best is what counts.
        Assert.False(chooser.ReportLatencies(Round((901, 200), (902, 15))));
        Assert.False(chooser.ReportLatencies(Round((901, 10), (902, 15))));
        Assert.False(chooser.ReportLatencies(Round((901, 10), (902, 15))));
        Assert.Equal(901, chooser.Home);
    }

    [Fact]
    public void A_home_whose_STUN_stops_answering_while_others_answer_moves_after_two_rounds()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 10), (902, 40)));
        Assert.False(chooser.ReportLatencies(Round((901, null), (902, 40))));
        Assert.True(chooser.ReportLatencies(Round((901, null), (902, 40))));
        Assert.Equal(902, chooser.Home);
    }

    [Fact]
    public void A_relay_connection_back_within_the_grace_keeps_the_home()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 10), (902, 40)));
        chooser.ReportConnection(true);
        Assert.False(chooser.ReportConnection(false));
        _time.Advance(HomeRegionChooser.FailoverGrace - TimeSpan.FromMilliseconds(1));
        Assert.False(chooser.ReportConnection(false));
        Assert.False(chooser.ReportConnection(true));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.False(chooser.ReportConnection(false));
        Assert.Equal(901, chooser.Home);
    }

    [Fact]
    public void A_relay_connection_down_for_the_grace_moves_home_to_the_next_fastest_region()
    {
        var chooser = Chooser(901, 902, 903);
        chooser.ReportLatencies(Round((901, 10), (902, 40), (903, 30)));
        chooser.ReportConnection(true);
        Assert.False(chooser.ReportConnection(false));
        _time.Advance(HomeRegionChooser.FailoverGrace);
        Assert.True(chooser.ReportConnection(false));
        Assert.Equal(903, chooser.Home);
    }

    [Fact]
    public void A_first_connection_that_is_slow_to_come_up_is_waited_for_longer_than_a_lost_one()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 10), (902, 40)));
        Assert.False(chooser.ReportConnection(false));
        _time.Advance(HomeRegionChooser.FirstConnectGrace - TimeSpan.FromMilliseconds(1));
        Assert.False(chooser.ReportConnection(false));
        Assert.Equal(901, chooser.Home);

        // A relay that never answers at all is left behind.
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(chooser.ReportConnection(false));
        Assert.Equal(902, chooser.Home);
    }

    [Fact]
    public void Failover_takes_a_region_that_never_answered_STUN_when_no_other_did()
    {
        // UDP to 902 is blocked, but its relay (TCP) may still be reachable.
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 10), (902, null)));
        chooser.ReportConnection(true);
        chooser.ReportConnection(false);
        _time.Advance(HomeRegionChooser.FailoverGrace);
        Assert.True(chooser.ReportConnection(false));
        Assert.Equal(902, chooser.Home);
    }

    [Fact]
    public void After_a_failover_the_failed_region_returns_only_by_the_latency_rule_and_not_during_the_hold_down()
    {
        var chooser = Chooser(901, 902);
        chooser.ReportLatencies(Round((901, 5), (902, 60)));
        chooser.ReportConnection(true);
        chooser.ReportConnection(false);
        _time.Advance(HomeRegionChooser.FailoverGrace);
        Assert.True(chooser.ReportConnection(false));
        Assert.Equal(902, chooser.Home);

        // 901's STUN answers again (its TCP side may still be broken): no move back during the hold-down.
        for (var i = 0; i < 2 * HomeRegionChooser.RoundsToMove; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            Assert.False(chooser.ReportLatencies(Round((901, 5), (902, 60))));
        }

        _time.Advance(HomeRegionChooser.FailedHoldDown);
        for (var i = 1; i < HomeRegionChooser.RoundsToMove; i++)
        {
            Assert.False(chooser.ReportLatencies(Round((901, 5), (902, 60))));
        }

        Assert.True(chooser.ReportLatencies(Round((901, 5), (902, 60))));
        Assert.Equal(901, chooser.Home);
    }

    [Fact]
    public void A_single_region_never_fails_over_anywhere()
    {
        var chooser = Chooser(900);
        chooser.ReportConnection(true);
        chooser.ReportConnection(false);
        _time.Advance(HomeRegionChooser.FailoverGrace * 10);
        Assert.False(chooser.ReportConnection(false));
        Assert.Equal(900, chooser.Home);
    }

    [Fact]
    public void A_map_without_the_home_region_moves_home_to_the_fastest_listed()
    {
        var chooser = Chooser(901, 902, 903);
        chooser.ReportLatencies(Round((901, 5), (902, 60), (903, 20)));
        Assert.True(chooser.SetRegions([902, 903]));
        Assert.Equal(903, chooser.Home);
    }
}
