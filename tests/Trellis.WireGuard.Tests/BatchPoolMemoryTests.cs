using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Trellis.WireGuard.Tests;

/// <summary>What the trim gives back, read where an operator reads it: the process's resident memory.</summary>
[Collection(ProcessMemory.Name)]
public class BatchPoolMemoryTests(ITestOutputHelper output)
{
    private const int BatchSize = 128;
    private const int Burst = 12;
    private const long BatchBytes = (long)BatchSize * Trellis.Core.Transport.PacketBuffer.Capacity;
    private const long MiB = 1 << 20;

    [Fact]
    public void After_a_burst_is_trimmed_the_process_is_back_to_its_resident_size_and_the_dropped_batches_read_as_zeros()
    {
        var time = new FakeTimeProvider();
        using var pool = new BatchPool(capacity: Burst, BatchSize, initial: BatchPool.Kept, time);

        // The batches the pool keeps are in use before the start: whichever two it keeps, it kept
        // two full ones before too.
        var kept = new PacketBatch[BatchPool.Kept];
        for (var i = 0; i < kept.Length; i++)
        {
            Assert.True(pool.Take(out kept[i]));
            Fill(kept[i]);
        }

        foreach (var batch in kept)
        {
            Assert.True(pool.TryAdd(batch));
        }

        var start = ResidentBytes();

        // A burst: every batch out at once, every page of every buffer written (96 MiB).
        var burst = new PacketBatch[Burst];
        for (var i = 0; i < burst.Length; i++)
        {
            Assert.True(pool.Take(out burst[i]));
            Fill(burst[i]);
        }

        var peak = ResidentBytes();
        foreach (var batch in burst)
        {
            Assert.True(pool.TryAdd(batch));
        }

        time.Advance(Constants.BatchTrimInterval); // the interval that had the burst keeps it
        time.Advance(Constants.BatchTrimInterval); // a quiet one lets it go
        var end = ResidentBytes();

        output.WriteLine($"resident {start / MiB} MiB before the burst, {peak / MiB} at it, {end / MiB} after the trim");
        Assert.Equal(BatchPool.Kept, pool.Created);
        var grown = (Burst - BatchPool.Kept) * BatchBytes;
        Assert.True(peak - start > grown * 9 / 10, $"the burst made {(peak - start) / MiB} MiB resident, not about {grown / MiB}");
        Assert.True(end - start < 4 * MiB, $"{(end - start) / MiB} MiB more resident after the trim than before the burst");

        // The batches let go read as zeros (their pages went back); the kept ones still hold their bytes.
        var zeroed = burst.Count(batch => batch.Packets.All(packet => !packet.Data.ContainsAnyExcept((byte)0)));
        Assert.Equal(Burst - BatchPool.Kept, zeroed);
    }

    private static void Fill(PacketBatch batch)
    {
        foreach (var packet in batch.Packets)
        {
            packet.Data.Fill(0xA5);
        }
    }

    // The second field of /proc/self/statm: resident pages.
    private static long ResidentBytes() =>
        long.Parse(File.ReadAllText("/proc/self/statm").Split(' ')[1]) * Environment.SystemPageSize;
}
