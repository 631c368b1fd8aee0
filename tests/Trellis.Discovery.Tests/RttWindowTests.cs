namespace Trellis.Discovery.Tests;

public class RttWindowTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void A_path_is_judged_on_the_least_of_its_latest_pongs_and_one_late_pong_does_not_count()
    {
        var window = new RttWindow();
        window.Add(Ms(2));
        window.Add(Ms(40)); // one pong delayed by a busy host
        window.Add(Ms(3));

        Assert.Equal(Ms(2), window.Min);
        Assert.Equal(3, window.Count);
    }

    [Fact]
    public void Pongs_older_than_the_window_no_longer_count()
    {
        var window = new RttWindow();
        window.Add(Ms(1));
        for (var i = 0; i < RttWindow.Size; i++)
        {
            window.Add(Ms(20 + i));
        }

        // The path got slower: its old best is forgotten after a window of new pongs.
        Assert.Equal(Ms(20), window.Min);
        Assert.Equal(RttWindow.Size, window.Count);
    }
}
