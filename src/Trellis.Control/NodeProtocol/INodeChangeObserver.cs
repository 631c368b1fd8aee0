using Trellis.Control.Store;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// Told of every node <see cref="ControlService"/> publishes, as the store holds it then (null: the
/// node is gone). Called under the node's publish guard, in the order the node changed: an
/// observer only hands the change on and never waits.
/// </summary>
public interface INodeChangeObserver
{
    void NodeChanged(long nodeId, Node? node);
}
