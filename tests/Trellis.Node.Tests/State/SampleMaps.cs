using System.Collections.Immutable;
using Trellis.Core.Control;
using Trellis.Crypto;

namespace Trellis.Node.Tests.State;

/// <summary>Small maps with real-looking keys and addresses.</summary>
internal static class SampleMaps
{
    public static PeerInfo Peer(long id, string name, bool online = true) => new()
    {
        Id = id,
        Name = name,
        NodeKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
        DiscoKey = X25519.PublicKey(X25519.GeneratePrivateKey()).ToBase64(),
        Addresses = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id:x}/128"],
        AllowedIps = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id:x}/128"],
        Endpoints = [$"198.51.100.{id}:41641"],
        HomeRelay = 900,
        Online = online,
        User = "alice",
    };

    public static NetMap Map(PeerInfo self, params PeerInfo[] peers) => new()
    {
        Self = self,
        Peers = peers.ToImmutableDictionary(p => p.Id),
        RelayMap = new RelayMap { Regions = [new RelayRegion { Id = 900, Code = "home", Nodes = [new RelayNode { Name = "r1", Host = "relay.example", Port = 443 }] }] },
        OverlayPrefixes = ["100.64.0.0/10", "fd7a:115c:a1e0::/48"],
    };
}
