using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

public sealed class PathBoundTests : IDisposable
{
    private readonly DiscoTestBed _bed = new();

    [Fact]
    public async Task Replayed_pings_from_32_spoofed_sources_neither_keep_out_nor_push_out_the_real_direct_path()
    {
        var a = _bed.Node("10.0.0.1");
        var b = _bed.Node("10.0.0.2");
        a.Bind.SetLocalEndpoints([a.Local]);
        b.Bind.SetLocalEndpoints([b.Local]);

        // The map does not know where B is (behind a NAT, say): A learns it only from B's own messages.
        a.Bind.SetPeers([b.AsPeer() with { Endpoints = [] }]);

        // Someone who captured one of B's pings to A replays it from 32 sources before B gets through.
        var captured = new byte[DiscoCodec.MaxPacketSize];
        var length = new DiscoSealer(b.DiscoPrivate).Seal(a.Bind.DiscoPublicKey, DiscoMessage.Ping(DiscoTxId.New(), b.NodeKey), captured);
        await ReplayAsync(a, captured.AsSpan(0, length).ToArray(), "10.66.0.1", PeerState.MaxPaths);

        b.Bind.SetPeers([a.AsPeer()]);
        await TestNode.WaitForAsync(() => a.Bind.GetStatus(b.NodeKey)!.DirectEndpoint == b.Local, "A's direct path to B");

        // 32 more spoofed sources, and the proven path stays: heartbeats keep it through 10 s.
        await ReplayAsync(a, captured.AsSpan(0, length).ToArray(), "10.66.0.2", PeerState.MaxPaths);
        await _bed.KeepTrafficAsync(a, b, 10, () =>
        {
            var status = a.Bind.GetStatus(b.NodeKey)!;
            Assert.Equal("direct", status.Path);
            Assert.Equal(b.Local, status.DirectEndpoint);
        });
        Assert.Equal(0, a.Bind.RelaySent);
    }

    private async Task ReplayAsync(TestNode to, byte[] packet, string address, int sources)
    {
        var before = to.Bind.DiscoReceived;
        for (var i = 0; i < sources; i++)
        {
            DiscoTestBed.Send(_bed.Socket(address), to.Local, packet);
        }

        // At least: the real peer's own messages may arrive meanwhile.
        await TestNode.WaitForAsync(() => to.Bind.DiscoReceived >= before + sources, "the replayed pings handled");
    }

    public void Dispose() => _bed.Dispose();
}
