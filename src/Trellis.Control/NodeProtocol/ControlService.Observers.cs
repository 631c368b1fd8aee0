namespace Trellis.Control.NodeProtocol;

/// <summary>Who else hears of node changes besides the connected nodes: the web console's live feed.</summary>
public sealed partial class ControlService
{
    private INodeChangeObserver? _observer;

    /// <summary>Sets the one observer of node changes (the web console's live feed); null stops it.</summary>
    public void Observe(INodeChangeObserver? observer) => Volatile.Write(ref _observer, observer);

    private void Observed(long nodeId, Store.Node? node) => Volatile.Read(ref _observer)?.NodeChanged(nodeId, node);
}
