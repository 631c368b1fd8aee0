using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// A batch of packets moving through one direction of the pipeline, with per-packet metadata in
/// parallel arrays. Allocated once at start-up and recycled.
/// </summary>
internal sealed class PacketBatch
{
    public PacketBatch(int size)
    {
        Packets = PacketBuffer.AllocateBatch(size);
        Keypairs = new Keypair?[size];
        Nonces = new ulong[size];
        Ok = new bool[size];
    }

    public PacketBuffer[] Packets { get; }

    public Keypair?[] Keypairs { get; }

    public ulong[] Nonces { get; }

    /// <summary>Set by a worker: the packet was sealed or opened successfully.</summary>
    public bool[] Ok { get; }

    public int Count { get; set; }

    /// <summary>Signalled once a worker finished the batch; the ordered stage waits on it.</summary>
    public BatchSignal Processed { get; } = new();

    /// <summary>Moves packet <paramref name="from"/> (buffer and metadata) to slot <paramref name="to"/>.</summary>
    public void MoveTo(int from, int to)
    {
        if (from == to)
        {
            return;
        }

        (Packets[to], Packets[from]) = (Packets[from], Packets[to]);
        Keypairs[to] = Keypairs[from];
        Nonces[to] = Nonces[from];
        Keypairs[from] = null;
    }

    public void Clear()
    {
        Array.Clear(Keypairs, 0, Count);
        Count = 0;
    }
}
