using Trellis.Core.Keys;
using Trellis.Relay.Client;
using Trellis.Relay.Protocol;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

public class MeshTests
{
    private const string MeshKey = "region-900-secret";

    private static RelayServerOptions Meshed() => TestRelay.Options() with { MeshKey = MeshKey };

    private static async Task<(RelayHost One, RelayHost Two)> RegionAsync(RelayServerOptions? two = null)
    {
        var one = await TestRelay.StartAsync(Meshed());
        var other = await TestRelay.StartAsync(two ?? Meshed());
        one.Server.AddMeshPeer(other.RelayUrl);
        other.Server.AddMeshPeer(one.RelayUrl);
        return (one, other);
    }

    private static Task KnowsAsync(RelayHost relay, int remote) =>
        Eventually.TrueAsync(() => relay.Server.Stats.RemoteClients == remote, $"{relay.Url} to know {remote} remote clients");

    [Fact]
    public async Task Clients_on_two_meshed_relays_exchange_through_one_hop()
    {
        var (one, two) = await RegionAsync();
        await using (one)
        await using (two)
        {
            await using var a = await TestRelay.ConnectedClientAsync(one);
            await using var b = await TestRelay.ConnectedClientAsync(two);
            await KnowsAsync(one, 1);
            await KnowsAsync(two, 1);
            Assert.Equal(1, one.Server.Stats.MeshPeersConnected);

            await PacketExchange.BothWaysAsync(a, b, 500);
            Assert.Equal(500, one.Server.Stats.MeshPacketsForwarded);
            Assert.Equal(500, two.Server.Stats.MeshPacketsForwarded);
            Assert.Equal(0, one.Server.Stats.MeshDrops);
        }
    }

    [Fact]
    public async Task A_peer_added_with_its_key_pinned_and_then_removed_takes_its_clients_routes_with_it()
    {
        var one = await TestRelay.StartAsync(Meshed());
        var two = await TestRelay.StartAsync(Meshed());
        await using (one)
        await using (two)
        {
            one.Server.AddMeshPeer(two.RelayUrl, two.Server.PublicKey);
            two.Server.AddMeshPeer(one.RelayUrl, one.Server.PublicKey);
            await using var a = await TestRelay.ConnectedClientAsync(one);
            await using var b = await TestRelay.ConnectedClientAsync(two);
            await KnowsAsync(one, 1);
            await PacketExchange.OneWayAsync(a, b, 5, seed: 7);

            Assert.True(await one.Server.RemoveMeshPeerAsync(two.RelayUrl));
            Assert.Equal(0, one.Server.Stats.RemoteClients);
            Assert.Empty(one.Server.MeshLinks);
            Assert.False(await one.Server.RemoveMeshPeerAsync(two.RelayUrl));

            // Added again, the link comes back.
            one.Server.AddMeshPeer(two.RelayUrl, two.Server.PublicKey);
            await KnowsAsync(one, 1);
            await PacketExchange.OneWayAsync(a, b, 5, seed: 8);
        }
    }

    [Fact]
    public async Task A_client_leaving_a_peer_relay_is_reported_gone_to_its_senders_here()
    {
        var (one, two) = await RegionAsync();
        await using (one)
        await using (two)
        {
            await using var a = await TestRelay.ConnectedClientAsync(one);
            var b = await TestRelay.ConnectedClientAsync(two);
            await KnowsAsync(one, 1);
            await PacketExchange.OneWayAsync(a, b, 5, seed: 4);
            var gone = Eventually.EventAsync<(Key Key, PeerGoneReason Reason)>(h => a.PeerGone += (k, r) => h((k, r)), _ => true);
            var bKey = b.PublicKey;

            await b.DisposeAsync();
            Assert.Equal((bKey, PeerGoneReason.Disconnected), await gone.WaitAsync(TimeSpan.FromSeconds(10)));
            await KnowsAsync(one, 0);
        }
    }

    [Fact]
    public async Task A_forwarded_packet_is_never_forwarded_again()
    {
        var (one, two) = await RegionAsync();
        await using (one)
        await using (two)
        {
            await using var b = await TestRelay.ConnectedClientAsync(two);
            await KnowsAsync(one, 1);

            // A mesh peer hands relay one a packet for b, who is at relay two: one must not pass it on.
            await using var peer = await RawRelayConnection.HandshakeAsync(one.RelayUrl, MeshKey);
            var frame = new byte[RelayProtocol.HeaderSize + (2 * Key.Size) + 10];
            FrameCodec.WriteForwardPacket(frame, peer.PublicKey, b.PublicKey, new byte[10]);
            await peer.WriteAsync(frame);

            await Eventually.TrueAsync(() => one.Server.Stats.DropsUnknownDestination == 1, "the drop");
            Assert.Equal(0, one.Server.Stats.MeshPacketsForwarded);
            Assert.False(b.Packets.TryRead(out _));
        }
    }

    [Fact]
    public async Task The_mesh_comes_back_after_a_peer_relay_restarts()
    {
        var twoOptions = Meshed();
        var (one, two) = await RegionAsync(twoOptions);
        var port = two.Url.Port;
        await using (one)
        {
            await using var a = await TestRelay.ConnectedClientAsync(one);
            await using var b = TestRelay.Client(two);
            b.Start();
            await KnowsAsync(one, 1);

            await two.DisposeAsync();
            await KnowsAsync(one, 0);
            await using var again = await TestRelay.StartAsync(twoOptions, port);
            again.Server.AddMeshPeer(one.RelayUrl);
            await KnowsAsync(one, 1);
            await KnowsAsync(again, 1);

            // The relay registers b as soon as it has queued the end of the handshake, so relay one can
            // know b before b's client has read it: until then b has no connection to send on.
            await Eventually.TrueAsync(() => b.IsConnected, "b to reconnect to the restarted relay");
            await PacketExchange.BothWaysAsync(a, b, 100);
        }
    }

    [Fact]
    public async Task A_relay_listed_as_its_own_peer_does_not_mesh_with_itself()
    {
        await using var one = await TestRelay.StartAsync(Meshed());
        one.Server.AddMeshPeer(one.RelayUrl);
        await using var a = await TestRelay.ConnectedClientAsync(one);
        await Eventually.TrueAsync(() => one.Server.Stats.HandshakesFailed >= 1, "the self link to stop at the server key");
        Assert.Equal(0, one.Server.Stats.RemoteClients);
        Assert.Equal(0, one.Server.Stats.MeshPeersConnected);
        Assert.False(one.Server.MeshLinks.Single().Connected);
    }
}
