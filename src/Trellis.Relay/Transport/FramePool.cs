using System.Buffers;

namespace Trellis.Relay.Transport;

/// <summary>
/// Where the relay's frame buffers come from and go back to, server and client alike. Frames of up
/// to <see cref="SmallSize"/> bytes (every packet a tunnel relays) share one bounded stock of
/// equal arrays; larger ones use <see cref="ArrayPool{T}.Shared"/>. Why not the shared pool for all:
/// a send queue holds up to 256 frames, and a queue that fills and then drains hands back more
/// arrays at once than the shared pool keeps (32 of a size per core), so every refill allocated
/// anew (260 bytes per relayed packet unpaced on two cores, 884 on one).
/// </summary>
internal sealed class FramePool : ArrayPool<byte>
{
    /// <summary>A 1,500-byte packet with its keys, header and the room in front fits.</summary>
    public const int SmallSize = 2048;

    /// <summary>
    /// Arrays kept at most: four full 256-frame queues of small frames (2 MiB). Bounded so that a
    /// moment when many queues were full is not held for good; past the stock, arrays come from and
    /// go to the collector as before.
    /// </summary>
    public const int DefaultStock = 1024;

    private readonly Lock _gate = new();
    private readonly byte[]?[] _stock;
    private readonly int _size;
    private int _count;

    /// <param name="stock">Arrays kept at most.</param>
    /// <param name="size">The length of every array kept; larger rents go to the shared pool.</param>
    public FramePool(int stock = DefaultStock, int size = SmallSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(stock);
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        _stock = new byte[]?[stock];
        _size = size;
    }

    /// <summary>The one pool every relay frame buffer in the process goes back to.</summary>
    public static FramePool Instance { get; } = new();

    /// <summary>Small arrays in stock now (tests).</summary>
    public int InStock
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    public override byte[] Rent(int minimumLength)
    {
        if (minimumLength > _size)
        {
            return Shared.Rent(minimumLength);
        }

        lock (_gate)
        {
            if (_count > 0)
            {
                var array = _stock[--_count]!;
                _stock[_count] = null;
                return array;
            }
        }

        return GC.AllocateUninitializedArray<byte>(_size);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length != _size)
        {
            Shared.Return(array, clearArray);
            return;
        }

        if (clearArray)
        {
            Array.Clear(array);
        }

        lock (_gate)
        {
            if (_count < _stock.Length)
            {
                _stock[_count++] = array;
            }
        }
    }
}
