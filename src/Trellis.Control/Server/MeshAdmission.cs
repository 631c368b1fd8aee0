using Trellis.Control.Mesh;
using Trellis.Core.Keys;
using Trellis.Relay.Server;

namespace Trellis.Control.Server;

/// <summary>The embedded relay admits the node keys of active nodes: one lookup in the live mesh, no database.</summary>
internal sealed class MeshAdmission(MeshState mesh) : IRelayAdmission
{
    public ValueTask<bool> IsAllowedAsync(Key nodeKey, CancellationToken cancellationToken) =>
        ValueTask.FromResult(mesh.IsActiveNodeKey(nodeKey.ToBase64()));
}
