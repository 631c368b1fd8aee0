using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

/// <summary>
/// The bed's settling, which every fake-clock test relies on before it moves the clock: it must not
/// report the nodes settled while one of them is still handling a datagram.
/// </summary>
public sealed class DiscoTestBedTests : IDisposable
{
    // Only a safety net so a broken bed fails instead of hanging; never reached when it works.
    private static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(30);

    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task The_nodes_are_not_settled_while_one_is_still_answering_and_are_once_its_answer_is_handled()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        var openedByA = new DiscoSealer(a.DiscoPrivate);
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var holdNext = 1;

        // B's first pong to A is held on B's receive thread, inside its handling of A's ping.
        _bed.Network.Drop = (source, destination, packet) =>
        {
            if (source == b.Local && destination == a.Local && DiscoCodec.IsDisco(packet)
                && openedByA.TryOpen(packet, out _, out var message) && message.Type == DiscoMessageType.Pong
                && Interlocked.Exchange(ref holdNext, 0) == 1)
            {
                holding.Set();
                release.Wait(HoldLimit);
            }

            return false;
        };

        // B knows A first, so every ping A sends gets a pong.
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);
        b.Bind.SetPeers([a.AsPeer()]);
        a.Bind.SetPeers([b.AsPeer()]);
        Assert.True(holding.Wait(HoldLimit), "B never answered A's ping");

        var settled = _bed.SettledAsync();
        Assert.False(settled.IsCompleted, "settled while B was still answering A");

        release.Set();
        await settled;
        Assert.Equal(_bed.PingsSent(a.Local, b.Local), a.Bind.CandidateOf(b.NodeKey, b.Local).Samples);
        Assert.Equal("direct", a.Bind.GetStatus(b.NodeKey)!.Path);
    }

    public void Dispose() => _bed.Dispose();
}
