using Trellis.Core.Control;

namespace Trellis.Node;

/// <summary>The peers a delta added, removed and changed, each as the maps on either side hold it.</summary>
public sealed record PeerDiff(
    IReadOnlyList<PeerInfo> Added,
    IReadOnlyList<PeerInfo> Removed,
    IReadOnlyList<(PeerInfo Before, PeerInfo After)> Changed);
