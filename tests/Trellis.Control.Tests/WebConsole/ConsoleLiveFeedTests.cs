using System.Text;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Store;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Tests.WebConsole;

/// <summary>The live feed's bounds: a client that stops reading is dropped, not buffered for, and the others go on.</summary>
public sealed class ConsoleLiveFeedTests
{
    [Fact]
    public async Task A_stream_that_falls_behind_is_dropped_and_a_reading_one_gets_every_change()
    {
        using var feed = new ConsoleLiveFeed(new FakeTimeProvider(), capacity: 4);
        var slow = feed.Subscribe(owner: null, []);
        var reading = feed.Subscribe(owner: null, []);
        var received = new List<string>();

        for (var id = 1; id <= 6; id++)
        {
            feed.NodeChanged(id, null);
            while (reading.Frames.TryRead(out var frame))
            {
                received.Add(Encoding.UTF8.GetString(frame));
            }
        }

        Assert.True(slow.Dropped);
        Assert.False(reading.Dropped);
        var kept = new List<byte[]>();
        await foreach (var frame in slow.Frames.ReadAllAsync())
        {
            kept.Add(frame); // what was queued before it was dropped; then the stream ends
        }

        Assert.Equal(4, kept.Count);
        Assert.Equal(6, received.Count);
        Assert.Equal("event: removed\ndata: {\"id\":6}\n\n", received[^1]);
    }

    [Fact]
    public void With_nobody_watching_a_change_costs_nothing_and_queues_nothing()
    {
        using var feed = new ConsoleLiveFeed(new FakeTimeProvider());
        feed.NodeChanged(1, null);
        var late = feed.Subscribe(owner: null, []);

        Assert.False(late.Frames.TryRead(out _));
        Assert.Equal(1, feed.Count);
    }

    [Fact]
    public void A_member_is_told_of_their_own_nodes_only_and_of_one_leaving_them()
    {
        using var feed = new ConsoleLiveFeed(new FakeTimeProvider());
        var bob = feed.Subscribe(owner: "bob", [7]);

        feed.NodeChanged(8, Owned(8, "carol"));
        feed.NodeChanged(9, null); // someone else's node deleted
        feed.NodeChanged(7, Owned(7, "bob"));
        feed.NodeChanged(7, Owned(7, null)); // now owned by tags
        feed.NodeChanged(7, null);

        var frames = new List<string>();
        while (bob.Frames.TryRead(out var frame))
        {
            frames.Add(Encoding.UTF8.GetString(frame));
        }

        Assert.Equal(2, frames.Count);
        Assert.StartsWith("event: node\ndata: {\"id\":7,", frames[0], StringComparison.Ordinal);
        Assert.Equal("event: removed\ndata: {\"id\":7}\n\n", frames[1]);
    }

    private static Node Owned(long id, string? user) => new()
    {
        Id = id,
        Name = $"node-{id}",
        User = user is null ? null : new User { Name = user },
        Tags = user is null ? ["tag:server"] : [],
        MachineKey = Admin.AdminTestServer.NewKey(),
        NodeKey = Admin.AdminTestServer.NewKey(),
        DiscoKey = Admin.AdminTestServer.NewKey(),
    };
}
