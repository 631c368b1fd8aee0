namespace Trellis.WireGuard;

/// <summary>
/// The anti-replay sliding window of WireGuard transport counters (RFC 6479): a ring of
/// <see cref="RingBlocks"/> blocks of 64 bits, of which all but one block form the window, so
/// a counter up to <see cref="WindowSize"/> (8128) behind the highest accepted counter can
/// still be accepted once. The semantics match wireguard-go's <c>replay.Filter</c> and the
/// Linux kernel's <c>counter_validate</c>.
/// </summary>
/// <remarks>
/// Not thread-safe: the caller serialises <see cref="ValidateCounter"/> and <see cref="Reset"/>
/// (normally under the receiving keypair's lock). Allocation-free after construction.
/// </remarks>
public sealed class ReplayFilter
{
    private const int BlockBitLog = 6;                    // 1 << 6 == 64 bits per block
    private const int BlockBits = 1 << BlockBitLog;       // 64
    private const int RingBlocks = 1 << 7;                // 128 blocks
    private const ulong BlockMask = RingBlocks - 1;
    private const ulong BitMask = BlockBits - 1;

    /// <summary>How far behind the highest accepted counter a counter may be and still be accepted: 8128.</summary>
    public const ulong WindowSize = ((ulong)RingBlocks - 1) * BlockBits;

    private readonly ulong[] _ring = new ulong[RingBlocks];

    // Highest counter accepted so far (0 after Reset: counter 0 itself is still acceptable,
    // since acceptance is decided by the bit in the ring, which Reset clears).
    private ulong _last;

    /// <summary>Forgets every counter seen, as for a fresh keypair.</summary>
    public void Reset()
    {
        _last = 0;
        Array.Clear(_ring);
    }

    /// <summary>
    /// Checks a received counter and, if it is acceptable, records it as seen.
    /// </summary>
    /// <param name="counter">The counter of an authenticated transport message.</param>
    /// <param name="limit">Counters greater than or equal to this are rejected (RejectAfterMessages).</param>
    /// <returns>
    /// <see langword="false"/> if <paramref name="counter"/> is at or past <paramref name="limit"/>,
    /// more than <see cref="WindowSize"/> behind the highest accepted counter, or already seen;
    /// otherwise <see langword="true"/>.
    /// </returns>
    public bool ValidateCounter(ulong counter, ulong limit)
    {
        if (counter >= limit)
        {
            return false;
        }

        var blockIndex = counter >> BlockBitLog;
        if (counter > _last)
        {
            // Slide the window forward: clear every block between the old top block (exclusive)
            // and the new one (inclusive), at most the whole ring.
            var current = _last >> BlockBitLog;
            var diff = blockIndex - current;
            if (diff > RingBlocks)
            {
                diff = RingBlocks;
            }

            for (var i = current + 1; i <= current + diff; i++)
            {
                _ring[(int)(i & BlockMask)] = 0;
            }

            _last = counter;
        }
        else if (_last - counter > WindowSize)
        {
            return false;   // behind the window
        }

        ref var block = ref _ring[(int)(blockIndex & BlockMask)];
        var bit = 1UL << (int)(counter & BitMask);
        if ((block & bit) != 0)
        {
            return false;   // replay
        }

        block |= bit;
        return true;
    }
}
