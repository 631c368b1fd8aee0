using Trellis.Core.Control;

namespace Trellis.Benchmarks;

/// <summary>A mesh's peer entry as the server keeps it, numbered: what the map benchmarks fill their meshes with.</summary>
internal static class BenchPeers
{
    /// <param name="moved">The entry after its node changed its IPv4 endpoint's port.</param>
    public static PeerInfo Entry(int i, int homeRelay, bool moved = false) => new()
    {
        Id = i,
        Name = $"bench-{i}",
        NodeKey = Convert.ToBase64String(BitConverter.GetBytes((long)i).Concat(new byte[24]).ToArray()),
        DiscoKey = Convert.ToBase64String(BitConverter.GetBytes((long)-i).Concat(new byte[24]).ToArray()),
        Addresses = [$"100.64.{i / 256}.{i % 256}/32", $"fd7a:115c:a1e0::{i:x}/128"],
        AllowedIps = [$"100.64.{i / 256}.{i % 256}/32", $"fd7a:115c:a1e0::{i:x}/128"],
        Endpoints = [$"198.51.{i / 256}.{i % 256}:{(moved ? 41642 : 41641)}", $"[2001:db8::{i:x}]:41641"],
        HomeRelay = homeRelay,
        Online = true,
        User = $"user{i % 30}@example.com",
        Version = "0.1.0+abcdef0",
    };
}
