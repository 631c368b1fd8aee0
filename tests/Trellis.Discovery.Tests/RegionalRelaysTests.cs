using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Two nodes homed in different relay regions (one <see cref="FakeRelay"/> per region, not meshed):
/// each reaches the other through the other's region, and a node whose region goes down moves home.
/// </summary>
public sealed class RegionalRelaysTests : IAsyncDisposable
{
    private const int East = 901;
    private const int West = 902;

    // A safety net only: fake relays deliver on a pool thread at once.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private readonly FakeTimeProvider _time = new();
    private readonly Dictionary<int, FakeRelay> _regions = new() { [East] = new FakeRelay(), [West] = new FakeRelay() };
    private readonly List<Side> _sides = [];

    private sealed record Side(Key Key, RegionalRelays Relays, Channel<(Key Source, byte[] Packet)> Received, List<int> HomeChanges, List<int> Dials);

    /// <summary>A node whose STUN round found <paramref name="nearest"/> fastest.</summary>
    private Side Node(int nearest)
    {
        var key = X25519.PublicKey(X25519.GeneratePrivateKey());
        var dials = new List<int>();
        var relays = new RegionalRelays(
            region =>
            {
                dials.Add(region);
                return _regions.TryGetValue(region, out var relay) ? relay.Connect(key, region) : null;
            },
            _time);
        var received = Channel.CreateUnbounded<(Key, byte[])>();
        relays.SetReceiver((source, packet) => received.Writer.TryWrite((source, packet.ToArray())));
        var changes = new List<int>();
        relays.HomeChanged += changes.Add;
        relays.SetRegions([.. _regions.Keys.Order()]);
        relays.ReportLatencies(_regions.Keys.ToDictionary(r => r, r => (double?)(r == nearest ? 5 : 80)));
        var side = new Side(key, relays, received, changes, dials);
        _sides.Add(side);
        return side;
    }

    private static async Task<(Key Source, byte[] Packet)> NextAsync(Side side)
    {
        using var cts = new CancellationTokenSource(Patience);
        return await side.Received.Reader.ReadAsync(cts.Token);
    }

    /// <summary>Moves the fake clock one check at a time, as the relays' timer would see it.</summary>
    private void Advance(TimeSpan total)
    {
        for (var t = TimeSpan.Zero; t < total; t += RegionalRelays.CheckInterval)
        {
            _time.Advance(RegionalRelays.CheckInterval);
        }
    }

    [Fact]
    public async Task Nodes_homed_in_different_regions_reach_each_other_through_the_others_region()
    {
        var a = Node(nearest: East);
        var b = Node(nearest: West);
        Assert.Equal(East, a.Relays.RegionId);
        Assert.Equal(West, b.Relays.RegionId);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = West });
        b.Relays.SetPeerRegions(new Dictionary<Key, int> { [a.Key] = East });

        Assert.True(a.Relays.TrySend(b.Key, [1, 2, 3]));
        var atB = await NextAsync(b);
        Assert.Equal(a.Key, atB.Source);
        Assert.Equal(new byte[] { 1, 2, 3 }, atB.Packet);
        Assert.Equal(1, _regions[West].Forwarded);
        Assert.Equal(new[] { West }, a.Relays.OnDemandRegions);

        Assert.True(b.Relays.TrySend(a.Key, [4]));
        Assert.Equal(b.Key, (await NextAsync(a)).Source);
        Assert.Equal(1, _regions[East].Forwarded);
    }

    [Fact]
    public async Task When_a_region_goes_down_its_node_moves_home_within_seconds_and_packets_keep_flowing_both_ways()
    {
        var a = Node(nearest: East);
        var b = Node(nearest: West);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = West });
        b.Relays.SetPeerRegions(new Dictionary<Key, int> { [a.Key] = East });
        Assert.True(b.Relays.TrySend(a.Key, [1]));
        await NextAsync(a);
        b.HomeChanges.Clear();

        Advance(RegionalRelays.CheckInterval); // b's home connection seen up
        _regions[West].Up = false;
        Advance(HomeRegionChooser.FailoverGrace - RegionalRelays.CheckInterval);
        Assert.Equal(West, b.Relays.RegionId);
        Advance(2 * RegionalRelays.CheckInterval);
        Assert.Equal(East, b.Relays.RegionId);
        Assert.Equal(new[] { East }, b.HomeChanges);

        // a's map still says West: it sends where b was last heard, which b still listens on.
        Assert.True(a.Relays.TrySend(b.Key, [2]));
        Assert.Equal(new byte[] { 2 }, (await NextAsync(b)).Packet);
        Assert.True(b.Relays.TrySend(a.Key, [3]));
        Assert.Equal(new byte[] { 3 }, (await NextAsync(a)).Packet);

        // The map catches up: same path, now by the rule.
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = East });
        Assert.True(a.Relays.TrySend(b.Key, [4]));
        Assert.Equal(new byte[] { 4 }, (await NextAsync(b)).Packet);
    }

    [Fact]
    public async Task A_batch_queued_for_peers_in_two_regions_goes_out_through_each_region_when_flushed()
    {
        var a = Node(nearest: East);
        var b = Node(nearest: West);
        var c = Node(nearest: East);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = West, [c.Key] = East });

        Assert.True(a.Relays.TryQueue(b.Key, [1]));
        Assert.True(a.Relays.TryQueue(c.Key, [2]));
        Assert.True(a.Relays.TryQueue(b.Key, [3]));
        Assert.Equal(0, _regions[West].Forwarded + _regions[East].Forwarded);

        a.Relays.Flush();
        Assert.Equal(new byte[] { 1 }, (await NextAsync(b)).Packet);
        Assert.Equal(new byte[] { 3 }, (await NextAsync(b)).Packet);
        Assert.Equal(new byte[] { 2 }, (await NextAsync(c)).Packet);
        Assert.Equal(1, _regions[East].ClientOf(a.Key)!.Flushes);
        Assert.Equal(1, _regions[West].ClientOf(a.Key)!.Flushes);
    }

    [Fact]
    public async Task While_a_peers_region_connects_status_names_the_region_that_carries_the_packets()
    {
        _regions[West].Up = false; // b's home, still connecting
        var a = Node(nearest: East);
        var b = Node(nearest: West);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = West });
        b.Relays.SetPeerRegions(new Dictionary<Key, int> { [a.Key] = East });

        // b's first map homed it in East, which it keeps open after moving: it reaches a there.
        Assert.Equal(West, b.Relays.RegionId);
        Assert.Equal(East, b.Relays.RegionFor(a.Key));
        Assert.True(b.Relays.TrySend(a.Key, [1]));
        Assert.Equal(b.Key, (await NextAsync(a)).Source);

        // a reaches b where b was heard, not through b's region that is not up yet.
        Assert.True(a.Relays.TrySend(b.Key, [2]));
        Assert.Equal(new byte[] { 2 }, (await NextAsync(b)).Packet);
        Assert.Equal(East, a.Relays.RegionFor(b.Key));

        _regions[West].Up = true;
        Assert.Equal(West, a.Relays.RegionFor(b.Key));
        Assert.Equal(East, b.Relays.RegionFor(a.Key));
    }

    [Fact]
    public void A_packet_sent_through_a_peers_region_expects_the_reply_at_home()
    {
        var a = Node(nearest: East);
        var b = Node(nearest: West);
        var c = Node(nearest: East);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = West, [c.Key] = East });
        var home = _regions[East].ClientOf(a.Key)!;

        // A peer at home answers on the connection the packet went out on: nothing more to watch.
        Assert.True(a.Relays.TrySend(c.Key, [1]));
        Assert.Equal(0, home.RepliesExpected);

        // b answers through a's home region, so a silent home relay must show even though a sent elsewhere.
        Assert.True(a.Relays.TrySend(b.Key, [2]));
        Assert.Equal(1, home.RepliesExpected);
        Assert.Equal(0, _regions[West].ClientOf(a.Key)!.RepliesExpected);
    }

    [Fact]
    public void A_connection_to_another_region_closes_after_it_idles()
    {
        var a = Node(nearest: East);
        var b = Node(nearest: West);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = West });
        Assert.True(a.Relays.TrySend(b.Key, [1]));
        Assert.Equal(new[] { West }, a.Relays.OnDemandRegions);

        Advance(RegionalRelays.IdleTimeout - TimeSpan.FromSeconds(10));
        Assert.True(a.Relays.TrySend(b.Key, [2]));
        Advance(RegionalRelays.IdleTimeout - RegionalRelays.CheckInterval);
        Assert.Equal(new[] { West }, a.Relays.OnDemandRegions);
        Advance(2 * RegionalRelays.CheckInterval);
        Assert.Empty(a.Relays.OnDemandRegions);
        Assert.Equal(East, a.Relays.RegionId);
    }

    [Fact]
    public void Connections_to_other_regions_are_bounded_and_the_least_recently_used_one_closes()
    {
        for (var region = 910; region < 910 + RegionalRelays.MaxOnDemand + 1; region++)
        {
            _regions[region] = new FakeRelay();
        }

        var a = Node(nearest: East);
        var peers = _regions.Keys.Where(r => r != East).Order().Select(r => (Region: r, Key: X25519.PublicKey(X25519.GeneratePrivateKey()))).ToList();
        a.Relays.SetPeerRegions(peers.ToDictionary(p => p.Key, p => p.Region));
        foreach (var (_, key) in peers)
        {
            a.Relays.TrySend(key, [1]);
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal(RegionalRelays.MaxOnDemand, a.Relays.OnDemandRegions.Count);
        Assert.Equal(peers.TakeLast(RegionalRelays.MaxOnDemand).Select(p => p.Region).Order(), a.Relays.OnDemandRegions.Order());
    }

    [Fact]
    public async Task A_peer_without_a_known_region_is_sent_to_through_home()
    {
        var a = Node(nearest: West);
        var b = Node(nearest: West);
        a.Relays.SetPeerRegions(new Dictionary<Key, int> { [b.Key] = 0 });
        Assert.True(a.Relays.TrySend(b.Key, [7]));
        Assert.Equal(new byte[] { 7 }, (await NextAsync(b)).Packet);
        Assert.Equal(1, _regions[West].Forwarded);
        Assert.Equal(0, _regions[East].Forwarded);
    }

    [Fact]
    public async Task A_region_whose_relay_node_changed_is_redialled_and_packets_arrive_over_the_new_connection()
    {
        var a = Node(nearest: East);
        var b = Node(nearest: East);
        b.Relays.SetPeerRegions(new Dictionary<Key, int> { [a.Key] = East });
        Assert.Equal(new[] { East }, a.Dials);

        a.Relays.Redial(East);
        Assert.Equal(new[] { East, East }, a.Dials);
        Assert.Equal(East, a.Relays.RegionId);
        Assert.True(b.Relays.TrySend(a.Key, [9]));
        Assert.Equal(new byte[] { 9 }, (await NextAsync(a)).Packet);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var side in _sides)
        {
            await side.Relays.DisposeAsync();
        }
    }
}
