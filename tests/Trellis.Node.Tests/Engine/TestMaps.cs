using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Node.Tests.Engine;

/// <summary>Hand-made maps: node N has 100.64.0.N and fd7a:115c:a1e0::N, and its underlay at 192.0.2.N.</summary>
internal static class TestMaps
{
    public const string OverlayV4 = "100.64.0.0/10";
    public const string OverlayV6 = "fd7a:115c:a1e0::/48";

    public static IReadOnlyList<string> Addresses(long id) => [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id:x}/128"];

    public static Key NewPrivateKey() => X25519.GeneratePrivateKey();

    public static string PublicOf(Key privateKey) => X25519.PublicKey(privateKey).ToBase64();

    /// <param name="routes">Approved subnet routes: the server adds them to the allowed IPs.</param>
    public static PeerInfo Peer(long id, string nodeKey, IReadOnlyList<string>? routes = null, IReadOnlyList<string>? endpoints = null) => new()
    {
        Id = id,
        Name = $"node{id}",
        NodeKey = nodeKey,
        DiscoKey = nodeKey,
        Addresses = Addresses(id),
        AllowedIps = [.. Addresses(id), .. routes ?? []],
        Endpoints = endpoints ?? [$"192.0.2.{id}:41641"],
        Online = true,
    };

    public static PeerInfo Peer(long id, Key privateKey, IReadOnlyList<string>? routes = null, IReadOnlyList<string>? endpoints = null) =>
        Peer(id, PublicOf(privateKey), routes, endpoints);

    public static NetMap Map(PeerInfo self, params PeerInfo[] peers) => new()
    {
        Self = self,
        Peers = peers.ToDictionary(p => p.Id),
        OverlayPrefixes = [OverlayV4, OverlayV6],
    };
}
