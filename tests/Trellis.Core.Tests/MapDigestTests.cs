using System.Text.Json;
using Trellis.Core.Control;

namespace Trellis.Core.Tests;

/// <summary>
/// A node hashes the entries it received and patched; the server the entries it would send. The
/// two must agree on equal entries and differ on any change, or a resume would resend or miss them.
/// </summary>
public class MapDigestTests
{
    private static PeerInfo Peer(long id) => new()
    {
        Id = id,
        Name = $"höst-{id}",
        NodeKey = new string('a', 44),
        DiscoKey = new string('b', 44),
        Addresses = [$"100.64.0.{id}/32"],
        AllowedIps = [$"100.64.0.{id}/32", "10.99.0.0/24"],
        Endpoints = ["198.51.100.1:41641"],
        User = "alice@example.com",
    };

    [Fact]
    public void An_entry_read_from_a_full_map_and_patched_by_a_delta_has_the_digest_of_the_servers_entry()
    {
        var sent = Peer(7);
        var map = new FullMap { Self = Peer(1), Peers = [sent] };
        var json = JsonSerializer.SerializeToUtf8Bytes<ControlMessage>(map, ControlJsonContext.Default.ControlMessage);
        var received = Assert.IsType<FullMap>(JsonSerializer.Deserialize(json, ControlJsonContext.Default.ControlMessage)).Peers[0];
        Assert.Equal(MapDigest.OfShared(sent), MapDigest.Of(received));

        // The server's entry after a move, and the node's after the patch that told it.
        var moved = sent with { Endpoints = ["203.0.113.5:41641"], Online = true };
        var patched = received with { Endpoints = ["203.0.113.5:41641"], Online = true };
        Assert.Equal(MapDigest.OfShared(moved), MapDigest.Of(patched));
        Assert.NotEqual(MapDigest.Of(received), MapDigest.Of(patched));
    }

    [Fact]
    public void A_resume_request_reads_back_as_each_peers_id_and_digest()
    {
        var peers = new[] { Peer(2), Peer(3), Peer(long.MaxValue) };
        var resume = MapDigest.Resume(peers, ["100.64.0.0/10"], null);

        Assert.True(MapDigest.TryRead(resume.Peers, out var digests));
        Assert.Equal(peers.ToDictionary(p => p.Id, MapDigest.Of), digests);
        Assert.Equal(MapDigest.OfSettings(["100.64.0.0/10"], null), resume.Settings);
        Assert.NotEqual(resume.Settings, MapDigest.OfSettings(["100.64.0.0/10"], new DnsConfig { BaseDomain = "mesh.example" }));
        Assert.NotEqual(resume.Settings, MapDigest.OfSettings(["100.64.0.0/10", "fd7a::/48"], null));
    }

    [Theory]
    [InlineData("%%%")] // not base64
    [InlineData("AAAA")] // 3 bytes: no whole record
    public void Text_that_is_not_whole_records_does_not_read(string peers) =>
        Assert.False(MapDigest.TryRead(peers, out _));

    [Fact]
    public void A_peer_named_twice_does_not_read()
    {
        var twice = MapDigest.Resume([Peer(2), Peer(2)], [], null);
        Assert.False(MapDigest.TryRead(twice.Peers, out _));
        Assert.True(MapDigest.TryRead(string.Empty, out var none));
        Assert.Empty(none);
    }
}
