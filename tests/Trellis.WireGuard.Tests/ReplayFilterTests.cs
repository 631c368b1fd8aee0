namespace Trellis.WireGuard.Tests;

/// <summary>
/// The counter self-test cases of the Linux kernel (drivers/net/wireguard/selftest/counter.c),
/// as also ported by wireguard-go (replay/replay_test.go), run against <see cref="ReplayFilter"/>.
/// </summary>
public sealed class ReplayFilterTests
{
    /// <summary>RejectAfterMessages = 2^64 - 2^13 - 1.</summary>
    private const ulong RejectAfterMessages = ulong.MaxValue - (1UL << 13);

    private const ulong WindowSize = 8128;
    private const ulong TLim = WindowSize + 1;

    private readonly ReplayFilter _filter = new();
    private int _step;

    private void T(ulong counter, bool expected)
    {
        _step++;
        var actual = _filter.ValidateCounter(counter, RejectAfterMessages);
        Assert.True(expected == actual, $"step {_step}: counter {counter} expected {expected}, got {actual}");
    }

    private void Init()
    {
        _filter.Reset();
        _step = 0;
    }

    [Fact]
    public void Constants_match_the_protocol()
    {
        Assert.Equal(WindowSize, ReplayFilter.WindowSize);
        Assert.Equal(18446744073709543423UL, RejectAfterMessages);
    }

    [Fact]
    public void Kernel_sequence_1_to_34()
    {
        Init();
        T(0, true);                         //  1
        T(1, true);                         //  2
        T(1, false);                        //  3
        T(9, true);                         //  4
        T(8, true);                         //  5
        T(7, true);                         //  6
        T(7, false);                        //  7
        T(TLim, true);                      //  8
        T(TLim - 1, true);                  //  9
        T(TLim - 1, false);                 // 10
        T(TLim - 2, true);                  // 11
        T(2, true);                         // 12
        T(2, false);                        // 13
        T(TLim + 16, true);                 // 14
        T(3, false);                        // 15
        T(TLim + 16, false);                // 16
        T(TLim * 4, true);                  // 17
        T(TLim * 4 - (TLim - 1), true);     // 18
        T(10, false);                       // 19
        T(TLim * 4 - TLim, false);          // 20
        T(TLim * 4 - (TLim + 1), false);    // 21
        T(TLim * 4 - (TLim - 2), true);     // 22
        T(TLim * 4 + 1 - TLim, false);      // 23
        T(0, false);                        // 24
        T(RejectAfterMessages, false);      // 25
        T(RejectAfterMessages - 1, true);   // 26
        T(RejectAfterMessages, false);      // 27
        T(RejectAfterMessages - 1, false);  // 28
        T(RejectAfterMessages - 2, true);   // 29
        T(RejectAfterMessages + 1, false);  // 30
        T(RejectAfterMessages + 2, false);  // 31
        T(RejectAfterMessages - 2, false);  // 32
        T(RejectAfterMessages - 3, true);   // 33
        T(0, false);                        // 34
    }

    [Fact]
    public void Bulk_1_ascending_full_window_then_zero()
    {
        Init();
        for (ulong i = 1; i <= WindowSize; i++)
        {
            T(i, true);
        }

        T(0, true);
        T(0, false);
    }

    [Fact]
    public void Bulk_2_ascending_from_two_then_one_fits_and_zero_does_not()
    {
        Init();
        for (ulong i = 2; i <= WindowSize + 1; i++)
        {
            T(i, true);
        }

        T(1, true);
        T(0, false);
    }

    [Fact]
    public void Bulk_3_descending_kernel_form()
    {
        // Kernel: for (i = WINDOW + 1; i-- > 0;) T(i, true);  i.e. WINDOW .. 0
        Init();
        for (var i = WindowSize + 1; i-- > 0;)
        {
            T(i, true);
        }
    }

    [Fact]
    public void Bulk_3_descending_wireguard_go_form()
    {
        // wireguard-go: for i := windowSize + 1; i > 0; i-- { T(i, true) }  i.e. WINDOW + 1 .. 1
        Init();
        for (var i = WindowSize + 1; i > 0; i--)
        {
            T(i, true);
        }
    }

    [Fact]
    public void Bulk_4_descending_kernel_form_then_zero_is_too_old()
    {
        // Kernel: for (i = WINDOW + 2; i-- > 1;) T(i, true);  i.e. WINDOW + 1 .. 1
        Init();
        for (var i = WindowSize + 2; i-- > 1;)
        {
            T(i, true);
        }

        T(0, false);
    }

    [Fact]
    public void Bulk_4_descending_wireguard_go_form_then_zero_is_too_old()
    {
        // wireguard-go: for i := windowSize + 2; i > 1; i-- { T(i, true) }  i.e. WINDOW + 2 .. 2
        Init();
        for (var i = WindowSize + 2; i > 1; i--)
        {
            T(i, true);
        }

        T(0, false);
    }

    [Fact]
    public void Bulk_5_descending_then_advance_makes_zero_too_old()
    {
        Init();
        for (var i = WindowSize; i > 0; i--)
        {
            T(i, true);
        }

        T(WindowSize + 1, true);
        T(0, false);
    }

    [Fact]
    public void Bulk_6_descending_then_zero_then_advance()
    {
        Init();
        for (var i = WindowSize; i > 0; i--)
        {
            T(i, true);
        }

        T(0, true);
        T(WindowSize + 1, true);
    }

    [Fact]
    public void A_fresh_filter_accepts_zero_and_reset_forgets()
    {
        var filter = new ReplayFilter();
        Assert.True(filter.ValidateCounter(0, RejectAfterMessages));
        Assert.True(filter.ValidateCounter(100_000, RejectAfterMessages));
        Assert.False(filter.ValidateCounter(0, RejectAfterMessages));
        filter.Reset();
        Assert.True(filter.ValidateCounter(0, RejectAfterMessages));
        Assert.True(filter.ValidateCounter(100_000, RejectAfterMessages));
    }

    [Fact]
    public void Limit_is_exclusive()
    {
        var filter = new ReplayFilter();
        Assert.False(filter.ValidateCounter(10, 10));
        Assert.False(filter.ValidateCounter(11, 10));
        Assert.True(filter.ValidateCounter(9, 10));
        Assert.False(filter.ValidateCounter(0, 0));
    }

    [Fact]
    public void Matches_a_naive_model_on_random_traffic()
    {
        // Reference: a counter is accepted iff below the limit, not seen, and at most
        // WindowSize behind the highest accepted counter (0 when none yet).
        var rng = new Random(6479);
        var filter = new ReplayFilter();
        var seen = new HashSet<ulong>();
        ulong last = 0;
        ulong next = 0;
        for (var n = 0; n < 200_000; n++)
        {
            ulong counter = rng.Next(10) switch
            {
                0 => next + (ulong)rng.Next(20_000),                             // jump ahead
                1 or 2 => next > 9000 ? next - (ulong)rng.Next(9000) : next,     // straddle the window edge
                3 => next > 0 ? next - 1 : 0,                                    // likely a replay
                _ => next > 200 ? next - (ulong)rng.Next(200) : next,            // mild reordering
            };
            next = Math.Max(next, counter) + 1;

            var expected = !seen.Contains(counter) && (counter > last || last - counter <= WindowSize);
            if (expected)
            {
                seen.Add(counter);
                last = Math.Max(last, counter);
            }

            Assert.Equal(expected, filter.ValidateCounter(counter, RejectAfterMessages));
        }
    }

    [Fact]
    public void Validate_does_not_allocate()
    {
        var filter = new ReplayFilter();
        for (ulong i = 0; i < 1000; i++)
        {
            filter.ValidateCounter(i, RejectAfterMessages);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 0; i < 100_000; i++)
        {
            filter.ValidateCounter(1000 + (i * 37 % 50_000), RejectAfterMessages);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
