using System.Net;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests;

/// <summary>The bounded, expiring table of destinations whose path refused a segmented send.</summary>
public sealed class UnsegmentedPathsTests
{
    private readonly ManualClock _clock = new();

    [Fact]
    public void A_refused_destination_is_unsegmented_on_every_port_of_its_address_and_no_other()
    {
        var paths = new UnsegmentedPaths(_clock);

        var linkLocal = At("fe80::7", 51820).Address;
        paths.Add(At("192.0.2.7", 51820));
        paths.Add(new Endpoint(linkLocal, 51820, scopeId: 2));

        Assert.True(paths.Contains(At("192.0.2.7", 51820)));
        Assert.True(paths.Contains(At("192.0.2.7", 4000)));
        Assert.False(paths.Contains(At("192.0.2.8", 51820)));
        Assert.False(paths.Contains(At("2001:db8::7", 51820)));
        Assert.True(paths.Contains(new Endpoint(linkLocal, 51820, scopeId: 2)));
        Assert.False(paths.Contains(new Endpoint(linkLocal, 51820, scopeId: 3)));
    }

    [Fact]
    public void An_entry_lapses_after_the_retry_time_and_a_new_refusal_starts_it_again()
    {
        var paths = new UnsegmentedPaths(_clock);
        var peer = At("2001:db8::7", 51820);
        paths.Add(peer);

        _clock.Advance(UnsegmentedPaths.RetryAfter - TimeSpan.FromSeconds(1));
        Assert.True(paths.Contains(peer));
        paths.Add(peer); // refused again: the wait starts over

        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(paths.Contains(peer));
        Assert.Equal(1, paths.Count);

        _clock.Advance(UnsegmentedPaths.RetryAfter);
        Assert.False(paths.Contains(peer));
        Assert.Equal(0, paths.Count);
    }

    [Fact]
    public void A_full_table_makes_room_by_forgetting_the_oldest_refusal()
    {
        var paths = new UnsegmentedPaths(_clock);
        for (var i = 0; i < UnsegmentedPaths.Capacity; i++)
        {
            paths.Add(At($"10.0.{i / 256}.{i % 256}", 51820));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        paths.Add(At("198.51.100.1", 51820));

        Assert.Equal(UnsegmentedPaths.Capacity, paths.Count);
        Assert.True(paths.Contains(At("198.51.100.1", 51820)));
        Assert.False(paths.Contains(At("10.0.0.0", 51820)));
        Assert.True(paths.Contains(At("10.0.0.1", 51820)));
        Assert.True(paths.Contains(At($"10.0.0.{UnsegmentedPaths.Capacity - 1}", 51820)));
    }

    private static Endpoint At(string address, int port) => Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), port));
}
