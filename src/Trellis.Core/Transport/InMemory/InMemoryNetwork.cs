using System.Collections.Concurrent;

namespace Trellis.Core.Transport.InMemory;

/// <summary>
/// A switch joining <see cref="InMemoryBind"/>s by endpoint, so several devices run in one process.
/// Tests can cut it (<see cref="Drop"/>) or watch it (<see cref="Tap"/>).
/// </summary>
public sealed class InMemoryNetwork
{
    private readonly ConcurrentDictionary<Endpoint, InMemoryBind> _binds = new();
    private int _nextPort = 40000;

    /// <summary>When set and returning true, the packet is lost on the wire.</summary>
    public Func<Endpoint, Endpoint, ReadOnlySpan<byte>, bool>? Drop { get; set; }

    /// <summary>Sees every packet (source, destination, bytes) before delivery.</summary>
    public Action<Endpoint, Endpoint, ReadOnlySpan<byte>>? Tap { get; set; }

    public InMemoryBind CreateBind(Endpoint address) => new(this, address);

    internal ushort Register(InMemoryBind bind, UInt128 address, ushort port)
    {
        while (true)
        {
            var p = port != 0 ? port : (ushort)Interlocked.Increment(ref _nextPort);
            if (_binds.TryAdd(new Endpoint(address, p), bind))
            {
                return p;
            }

            if (port != 0)
            {
                throw new InvalidOperationException($"port {port} already in use");
            }
        }
    }

    internal void Unregister(Endpoint endpoint) => _binds.TryRemove(endpoint, out _);

    internal void Deliver(in Endpoint source, in Endpoint destination, ReadOnlySpan<byte> packet)
    {
        Tap?.Invoke(source, destination, packet);
        if (Drop?.Invoke(source, destination, packet) == true)
        {
            return;
        }

        if (_binds.TryGetValue(destination, out var bind))
        {
            bind.Incoming.Enqueue(packet, source);
        }
    }
}
