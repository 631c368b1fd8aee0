using System.Text;
using System.Text.Json;
using Trellis.Core.Control;

namespace Trellis.Core.Tests;

/// <summary>
/// Peer entries in full maps and deltas are written from JSON kept per entry: the wire format is
/// what the generated serializer writes, and a second map carrying the same entries reuses its bytes.
/// </summary>
public class SharedPeerListConverterTests
{
    private static PeerInfo Peer(int i) => new()
    {
        Id = i,
        Name = $"höst-{i}", // escaped as the generated writer escapes it
        NodeKey = new string('a', 44),
        DiscoKey = new string('b', 44),
        Addresses = [$"100.64.0.{i}/32", $"fd7a:115c:a1e0::{i:x}/128"],
        AllowedIps = [$"100.64.0.{i}/32", "10.99.0.0/24"],
        Endpoints = i % 2 == 0 ? ["198.51.100.1:41641"] : [],
        Online = i % 3 == 0,
        Gateway = i == 4 ? 1 : null,
        User = i == 5 ? null : "alice@example.com",
    };

    [Fact]
    public void A_full_map_and_a_delta_carry_each_entry_as_the_generated_serializer_writes_it_and_read_back_the_same()
    {
        var peers = Enumerable.Range(1, 6).Select(Peer).ToList();
        var map = Json(new FullMap { Self = Peer(0), Peers = peers });
        var delta = Json(new MapDelta { PeersChanged = peers[2..4], PeersRemoved = [9] });

        var entries = peers.Select(p => JsonSerializer.Serialize(p, ControlJsonContext.Default.PeerInfo)).ToList();
        Assert.Contains("\"peers\":[" + string.Join(',', entries) + "]", map, StringComparison.Ordinal);
        Assert.Contains("\"peersChanged\":[" + entries[2] + "," + entries[3] + "]", delta, StringComparison.Ordinal);

        var back = Assert.IsType<FullMap>(JsonSerializer.Deserialize(map, ControlJsonContext.Default.ControlMessage));
        Assert.Equal(entries, back.Peers.Select(p => JsonSerializer.Serialize(p, ControlJsonContext.Default.PeerInfo)));
        var backDelta = Assert.IsType<MapDelta>(JsonSerializer.Deserialize(delta, ControlJsonContext.Default.ControlMessage));
        Assert.Equal([3L, 4L], backDelta.PeersChanged.Select(p => p.Id));
        Assert.Equal([9L], backDelta.PeersRemoved);
    }

    [Fact]
    public void A_second_map_with_the_same_entries_reuses_their_bytes_and_a_changed_entry_is_written_anew()
    {
        var peers = Enumerable.Range(1, 50).Select(Peer).ToList();
        Json(new FullMap { Self = Peer(0), Peers = peers });
        var kept = peers.Select(p => SharedPeerListConverter.TryGetSerialized(p, out var json) ? json : null).ToList();
        Assert.All(kept, Assert.NotNull);

        var changed = peers[7] with { Online = !peers[7].Online };
        Json(new FullMap { Self = Peer(0), Peers = [.. peers.Take(7), changed, .. peers.Skip(8)] });
        for (var i = 0; i < peers.Count; i++)
        {
            Assert.True(SharedPeerListConverter.TryGetSerialized(peers[i], out var again));
            Assert.Same(kept[i], again);
        }

        Assert.True(SharedPeerListConverter.TryGetSerialized(changed, out var fresh));
        Assert.Contains($"\"online\":{(changed.Online ? "true" : "false")}", Encoding.UTF8.GetString(fresh!), StringComparison.Ordinal);
    }

    private static string Json(ControlMessage message)
    {
        using var framed = FramedMessageWriter.Write(message);
        var bytes = framed.Chunks.SelectMany(c => c.ToArray()).Skip(4).ToArray();
        return Encoding.UTF8.GetString(bytes);
    }
}
