using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// Every entry of the mesh at one moment, in id order: taken once per policy change, then shared by the
/// change's deltas to every node (<see cref="AllPeersExcept"/>), so no node's delta copies the mesh.
/// </summary>
internal sealed class MeshSnapshot
{
    public MeshSnapshot(IEnumerable<PeerInfo> entries)
    {
        Peers = [.. entries];
        Ids = new long[Peers.Length];
        for (var i = 0; i < Peers.Length; i++)
        {
            Ids[i] = Peers[i].Id;
        }

        Array.Sort(Ids, Peers);
    }

    /// <summary>Ascending.</summary>
    public long[] Ids { get; }

    /// <summary>In the order of <see cref="Ids"/>.</summary>
    public PeerInfo[] Peers { get; }
}
