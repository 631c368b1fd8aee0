using Trellis.Node.Control;

namespace Trellis.Node.Tests.Control;

public class ReconnectBackoffTests
{
    [Fact]
    public void Nodes_dropped_together_wait_different_times_between_half_and_all_of_the_doubling_ceiling()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        var first = Enumerable.Range(0, 200).Select(_ => backoff.Delay(0)).ToList();
        Assert.All(first, d => Assert.InRange(d, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1)));
        Assert.True(first.Distinct().Count() > 100, "the delays of a reconnecting crowd are spread, not one instant");

        Assert.All(Enumerable.Range(0, 50).Select(_ => backoff.Delay(3)), d => Assert.InRange(d, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)));
        Assert.All(Enumerable.Range(0, 50).Select(_ => backoff.Delay(40)), d => Assert.InRange(d, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60)));
    }
}
