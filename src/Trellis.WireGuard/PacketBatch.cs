using Trellis.Core.Transport;

namespace Trellis.WireGuard;

/// <summary>
/// A batch of packets moving through one direction of the pipeline, with per-packet metadata in
/// parallel arrays. Made off the packet threads and recycled (see BatchPool); its buffers share one slab.
/// </summary>
internal sealed class PacketBatch : IDisposable
{
    private readonly PacketSlab _slab;

    public PacketBatch(int size)
    {
        _slab = new PacketSlab(size);
        Packets = _slab.Buffers;
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

    /// <summary>Set by the worker that processed the batch, for the ordered completion (see OrderedPipeline).</summary>
    public bool Finished;

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

    /// <summary>Gives the buffers' pages back while the batch is set aside; they read as zeros after.</summary>
    public void Release() => _slab.Release();

    /// <summary>Unmaps the buffers: only once no thread can touch them again.</summary>
    public void Dispose() => ((IDisposable)_slab).Dispose();

    public void Clear()
    {
        Array.Clear(Keypairs, 0, Count);
        Count = 0;
    }
}
