using Trellis.Control.Mesh;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Mesh;

/// <summary>The mesh tests' nodes and their way of reading a session's next message.</summary>
internal static class MeshTestPeers
{
    /// <summary>A dual-stack node with an owner or tags, numbered so its addresses follow its id.</summary>
    public static PeerInfo Node(long id, string? user = null, params string[] tags) => new()
    {
        Id = id,
        Name = $"node{id}",
        NodeKey = $"nodekey{id}",
        DiscoKey = $"disco{id}",
        Addresses = [$"100.64.0.{id}/32", $"fd7a:1::{id}/128"],
        AllowedIps = [$"100.64.0.{id}/32", $"fd7a:1::{id}/128"],
        User = user,
        Tags = tags,
    };

    /// <summary>A dual-stack node of a mesh of thousands: its IPv4 address counts on past 250 into the next /24.</summary>
    public static PeerInfo NumberedNode(long id, string user) => new()
    {
        Id = id,
        Name = $"node{id}",
        NodeKey = $"nodekey{id}",
        DiscoKey = $"disco{id}",
        Addresses = [$"100.64.{id / 250}.{id % 250 + 1}/32", $"fd7a:1::{id:x}/128"],
        AllowedIps = [$"100.64.{id / 250}.{id % 250 + 1}/32", $"fd7a:1::{id:x}/128"],
        User = user,
    };

    /// <summary>The session's next message, which must be a <typeparamref name="T"/>.</summary>
    public static async Task<T> Next<T>(MeshSession session)
        where T : ControlMessage
    {
        var message = await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        return Assert.IsType<T>(message);
    }
}
