using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Mesh;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>
/// A map stream's pace, on a fake clock that only the test moves: a change after a quiet spell goes at
/// once, changes that follow it within the pace go out as one delta when the pace has passed.
/// </summary>
public class MeshSessionPaceTests
{
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Keepalive = TimeSpan.FromSeconds(60);

    /// <summary>A safety net only: every wait here ends on an event or the fake clock long before it.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _clock = new();

    private static async Task<T> NextAsync<T>(ValueTask<ControlMessage?> next)
        where T : ControlMessage =>
        Assert.IsType<T>(await next.AsTask().WaitAsync(Patience));

    /// <summary>A mesh of nodes 1 and 2, and node 1's stream with its full map taken.</summary>
    private async Task<(MeshState Mesh, MeshSession Session)> StreamAfterItsFullMapAsync()
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"], sessionTime: _clock);
        mesh.Upsert(MeshTestPeers.Node(1));
        mesh.Upsert(MeshTestPeers.Node(2));
        var session = mesh.Connect(1);
        await NextAsync<FullMap>(session.NextAsync(Keepalive, Pace, CancellationToken.None));
        return (mesh, session);
    }

    [Fact]
    public async Task A_change_after_a_quiet_spell_goes_at_once_and_the_changes_right_after_it_go_together_when_the_pace_has_passed()
    {
        var (mesh, session) = await StreamAfterItsFullMapAsync();
        using var _ = session;

        _clock.Advance(TimeSpan.FromSeconds(1));
        mesh.Upsert(MeshTestPeers.Node(3));
        var first = await NextAsync<MapDelta>(session.NextAsync(Keepalive, Pace, CancellationToken.None)); // the clock does not move
        Assert.Equal([3L], first.PeersChanged.Select(p => p.Id));

        mesh.Upsert(MeshTestPeers.Node(4));
        var next = session.NextAsync(Keepalive, Pace, CancellationToken.None);
        mesh.Upsert(MeshTestPeers.Node(5)); // arrives while the stream waits out the pace
        _clock.Advance(Pace - TimeSpan.FromMilliseconds(1));
        Assert.False(next.IsCompleted, "a delta went out before the pace had passed");

        _clock.Advance(TimeSpan.FromMilliseconds(1));
        var merged = await NextAsync<MapDelta>(next);
        Assert.Equal([4L, 5L], merged.PeersChanged.Select(p => p.Id).Order());
    }

    [Fact]
    public async Task A_session_closed_while_its_delta_waits_for_the_pace_ends_at_once()
    {
        var (mesh, session) = await StreamAfterItsFullMapAsync();
        using var _ = session;

        mesh.Upsert(MeshTestPeers.Node(3));
        var next = session.NextAsync(Keepalive, Pace, CancellationToken.None);
        mesh.Remove(1, "deleted");

        Assert.Null(await next.AsTask().WaitAsync(Patience)); // the clock does not move
    }
}
