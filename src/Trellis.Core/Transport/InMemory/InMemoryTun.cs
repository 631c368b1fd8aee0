namespace Trellis.Core.Transport.InMemory;

/// <summary>
/// An <see cref="ITun"/> whose "host side" is the test: <see cref="Inject"/> is a packet the host
/// sends into the tunnel; <see cref="Delivered"/> holds what the tunnel gave the host.
/// </summary>
public sealed class InMemoryTun(string name = "mem0", int mtu = 1420) : ITun
{
    private readonly SlotQueue _toDevice = new(1024, 4096);

    public string Name { get; } = name;

    public int Mtu { get; } = mtu;

    public int BatchSize => 32;

    /// <summary>Packets written by the device, waiting for the test to take them.</summary>
    public SlotQueue Delivered { get; } = new(1024, 4096);

    public bool Inject(ReadOnlySpan<byte> packet) => _toDevice.Enqueue(packet, default);

    public int Read(Span<PacketBuffer> packets, int offset) => _toDevice.Dequeue(packets, offset);

    public void Write(ReadOnlySpan<PacketBuffer> packets)
    {
        foreach (var p in packets)
        {
            Delivered.Enqueue(p.Packet, default);
        }
    }

    public void Close()
    {
        _toDevice.Close();
        Delivered.Close();
    }

    public void Dispose() => Close();
}
