using System.Buffers;
using Microsoft.AspNetCore.Connections;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Server;

/// <summary>
/// Kestrel's buffers for a relay host: 32 KiB blocks instead of Kestrel's 4 KiB, so one receive
/// system call takes a whole burst of small frames (at 4 KiB the relay made about twenty receive
/// calls per burst a client wrote in one send). Blocks come from a stock of their own and go back
/// when Kestrel is done with them; an idle connection holds none (Kestrel waits for data before it
/// asks for a buffer).
/// </summary>
internal sealed class BurstMemoryPool : MemoryPool<byte>, IMemoryPoolFactory<byte>
{
    public const int BlockSize = 32 * 1024;

    /// <summary>
    /// Blocks kept at most (2 MiB). A one-core relay that falls behind a fast sender has more blocks in
    /// its connections' pipes than the shared pool keeps (32 per core), and allocated a block for about
    /// every 400 packets it read; bounded so that a moment of many full pipes is not held for good.
    /// </summary>
    private static readonly FramePool Blocks = new(stock: 64, size: BlockSize);

    public static BurstMemoryPool Instance { get; } = new();

    public override int MaxBufferSize => 1024 * 1024;

    public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => this;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1) =>
        new Block(Blocks.Rent(Math.Max(minBufferSize, BlockSize)));

    protected override void Dispose(bool disposing)
    {
        // shared by every host in the process: nothing to release
    }

    private sealed class Block(byte[] array) : IMemoryOwner<byte>
    {
        private byte[]? _array = array;

        public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _array, null) is { } returned)
            {
                Blocks.Return(returned);
            }
        }
    }
}
