using System.Buffers;
using Trellis.Relay.Transport;

namespace Trellis.Relay.Tests;

/// <summary>The relay's frame pool, counting what is rented through it (its arrays go back to that pool).</summary>
internal sealed class CountingPool(int largeFrom) : ArrayPool<byte>
{
    private int _rents;
    private int _largeRents;
    private int _returns;

    public int Rents => Volatile.Read(ref _rents);

    /// <summary>Rents of at least the size given at construction.</summary>
    public int LargeRents => Volatile.Read(ref _largeRents);

    /// <summary>Arrays given back through this pool (holders of packet buffers give them to the frame pool directly).</summary>
    public int Returns => Volatile.Read(ref _returns);

    public override byte[] Rent(int minimumLength)
    {
        Interlocked.Increment(ref _rents);
        if (minimumLength >= largeFrom)
        {
            Interlocked.Increment(ref _largeRents);
        }

        return FramePool.Instance.Rent(minimumLength);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        Interlocked.Increment(ref _returns);
        FramePool.Instance.Return(array, clearArray);
    }
}
