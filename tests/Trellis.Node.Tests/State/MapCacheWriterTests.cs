using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Trellis.Node.State;

namespace Trellis.Node.Tests.State;

/// <summary>The cached map is written at once the first time, then at most once per interval with the newest map, and flushed when the session ends.</summary>
public sealed class MapCacheWriterTests : IDisposable
{
    private const string Server = "https://trellis.example/";
    private readonly string _dir = Path.Combine(Directory.CreateTempSubdirectory("trellis-cache-").FullName, "state");
    private readonly FakeTimeProvider _time = new();

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(_dir)!, recursive: true);

    [Fact]
    public void A_burst_of_maps_is_one_write_of_the_newest_an_interval_after_the_first()
    {
        using var state = StateDirectory.Open(_dir);
        var writer = new MapCacheWriter(state, _time, NullLogger.Instance);
        var self = SampleMaps.Peer(1, "self");

        writer.Save(SampleMaps.Map(self, SampleMaps.Peer(2, "first")), Server);
        Assert.Equal(["first"], Names(state));

        writer.Save(SampleMaps.Map(self, SampleMaps.Peer(3, "second")), Server);
        _time.Advance(MapCacheWriter.Interval / 2);
        writer.Save(SampleMaps.Map(self, SampleMaps.Peer(4, "third")), Server);
        Assert.Equal(["first"], Names(state));

        _time.Advance(MapCacheWriter.Interval / 2);
        Assert.Equal(["third"], Names(state));

        // Quiet for an interval: the next map is written at once again.
        _time.Advance(MapCacheWriter.Interval);
        writer.Save(SampleMaps.Map(self, SampleMaps.Peer(5, "fourth")), Server);
        Assert.Equal(["fourth"], Names(state));
    }

    [Fact]
    public void A_flush_writes_the_waiting_map_at_once_and_no_timer_writes_it_again_after_the_cache_is_cleared()
    {
        using var state = StateDirectory.Open(_dir);
        var writer = new MapCacheWriter(state, _time, NullLogger.Instance);
        var self = SampleMaps.Peer(1, "self");
        writer.Save(SampleMaps.Map(self, SampleMaps.Peer(2, "first")), Server);
        writer.Save(SampleMaps.Map(self, SampleMaps.Peer(3, "last")), Server);

        writer.Flush();
        Assert.Equal(["last"], Names(state));

        state.ClearMap(); // as a logout does after the session's flush
        _time.Advance(MapCacheWriter.Interval * 2);
        Assert.Null(state.LoadMap(Server));
    }

    private static List<string> Names(StateDirectory state) => [.. state.LoadMap(Server)!.Peers.Values.Select(p => p.Name)];
}
