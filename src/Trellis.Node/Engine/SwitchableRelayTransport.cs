using Trellis.Core.Keys;
using Trellis.Discovery;

namespace Trellis.Node.Engine;

/// <summary>
/// The relay under the discovery bind, replaceable: the bind is built with the device, before any map
/// says which relay is home, and the home relay may change with the map.
/// </summary>
internal sealed class SwitchableRelayTransport : IRelayTransport
{
    private volatile IRelayTransport? _current;
    private volatile RelayReceiver? _receiver;

    public int RegionId => _current?.RegionId ?? 0;

    public bool IsAvailable => _current?.IsAvailable ?? false;

    public bool TrySend(Key nodeKey, ReadOnlySpan<byte> packet) => _current?.TrySend(nodeKey, packet) ?? false;

    public void SetReceiver(RelayReceiver? receiver)
    {
        _receiver = receiver;
        _current?.SetReceiver(receiver);
    }

    /// <summary>Makes <paramref name="next"/> the relay in use and returns the one it replaces (for the caller to close).</summary>
    public IRelayTransport? Switch(IRelayTransport? next)
    {
        next?.SetReceiver(_receiver);
        var previous = Interlocked.Exchange(ref _current, next);
        previous?.SetReceiver(null);
        return previous;
    }
}
