using System.Collections.Immutable;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;
using Trellis.Node.Engine;

namespace Trellis.Node.Tests.Engine;

/// <summary>Who may use this node as a peer relay: the peers the policy lets reach it, read from the map's inbound filter.</summary>
public sealed class PeerRelayClientsTests
{
    [Fact]
    public void Without_a_policy_every_peer_may()
    {
        Assert.Null(PeerRelayClients.From(Map(PacketFilter.AllowAll, out _, out _)));
    }

    [Fact]
    public void Under_a_policy_only_peers_a_rule_lets_in_may()
    {
        var filter = new PacketFilter
        {
            Rules =
            [
                new FilterRule { Sources = ["100.64.0.2/32"], Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 22, LastPort = 22 }] },
            ],
        };

        var allowed = PeerRelayClients.From(Map(filter, out var laptop, out var nas));

        Assert.NotNull(allowed);
        Assert.Contains(laptop, allowed);
        Assert.DoesNotContain(nas, allowed);
    }

    private static NetMap Map(PacketFilter filter, out Key laptop, out Key nas)
    {
        laptop = X25519.PublicKey(X25519.GeneratePrivateKey());
        nas = X25519.PublicKey(X25519.GeneratePrivateKey());
        PeerInfo[] peers = [Peer(2, "laptop", laptop), Peer(3, "nas", nas)];
        return new NetMap { Self = Peer(1, "relay", X25519.PublicKey(X25519.GeneratePrivateKey())), Peers = peers.ToImmutableDictionary(p => p.Id), PacketFilter = filter };
    }

    private static PeerInfo Peer(long id, string name, Key key) => new()
    {
        Id = id,
        Name = name,
        NodeKey = key.ToBase64(),
        DiscoKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
        Addresses = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
        AllowedIps = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
    };
}
