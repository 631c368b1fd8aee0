using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Replicas;

namespace Trellis.Control.Tests.Replicas;

public class ChangeCursorTests
{
    private static readonly TimeSpan HoleTimeout = TimeSpan.FromSeconds(30);

    private static MeshChange Row(long seq) => new(seq, MeshChangeKind.Node, seq * 10, "other");

    [Fact]
    public void Rows_read_again_are_not_applied_again()
    {
        var cursor = new ChangeCursor(0, new FakeTimeProvider(), HoleTimeout);
        Assert.Equal([1, 2, 3], cursor.Take([Row(1), Row(2), Row(3)]).Select(r => r.Seq));
        Assert.Empty(cursor.Take([Row(2), Row(3)]));
        Assert.Equal(3, cursor.Watermark);
    }

    [Fact]
    public void A_hole_holds_the_watermark_until_its_row_commits_and_is_then_applied()
    {
        var cursor = new ChangeCursor(10, new FakeTimeProvider(), HoleTimeout);
        Assert.Equal([11, 13], cursor.Take([Row(11), Row(13)]).Select(r => r.Seq));
        Assert.Equal(11, cursor.Watermark);
        Assert.True(cursor.HasHoles);

        // The next read starts after the watermark, so 13 comes again with the late 12: only 12 is new.
        Assert.Equal([12], cursor.Take([Row(12), Row(13)]).Select(r => r.Seq));
        Assert.Equal(13, cursor.Watermark);
        Assert.False(cursor.HasHoles);
    }

    [Fact]
    public void A_hole_that_never_fills_is_given_up_after_the_timeout_and_still_applied_if_it_commits_late()
    {
        var clock = new FakeTimeProvider();
        var cursor = new ChangeCursor(0, clock, HoleTimeout);
        cursor.Take([Row(1), Row(3)]);
        clock.Advance(HoleTimeout - TimeSpan.FromSeconds(1));
        cursor.Advance();
        Assert.Equal(1, cursor.Watermark);

        clock.Advance(TimeSpan.FromSeconds(1));
        cursor.Advance();
        Assert.Equal(3, cursor.Watermark);
        Assert.Equal(1, cursor.HolesGivenUp);

        Assert.True(cursor.WasGivenUp(2));
        Assert.False(cursor.WasGivenUp(3));
        Assert.Equal([2], cursor.Take([Row(2)]).Select(r => r.Seq));
        Assert.False(cursor.WasGivenUp(2));
    }
}
