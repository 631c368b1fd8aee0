namespace Trellis.WireGuard.Tests;

/// <summary>
/// The pipeline's promise to the device: every batch completed once, in the order it was submitted,
/// one completion at a time, however the workers finish.
/// </summary>
public class OrderedPipelineTests
{
    private const int Capacity = 8;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Batches_complete_once_each_in_submission_order_one_at_a_time_whatever_order_workers_finish_in(int workers)
    {
        const int batches = 20_000;
        var free = new BlockingRing<PacketBatch>(Capacity);
        var all = new List<PacketBatch>();
        for (var i = 0; i < Capacity; i++)
        {
            var batch = new PacketBatch(1);
            all.Add(batch);
            free.TryAdd(batch);
        }

        var completed = new List<ulong>(batches);
        var completedCount = 0;
        var inside = 0;
        var overlapped = false;
        using (var pipeline = new OrderedPipeline(
                   "test", workers, Capacity,
                   process: batch =>
                   {
                       // Uneven work, so later batches often finish first.
                       var spins = (int)(batch.Nonces[0] * 2654435761 % 500);
                       Thread.SpinWait(spins);
                       if (spins % 7 == 0)
                       {
                           Thread.Yield();
                       }
                   },
                   complete: batch =>
                   {
                       overlapped |= Interlocked.Increment(ref inside) != 1;
                       completed.Add(batch.Nonces[0]);
                       Interlocked.Decrement(ref inside);
                       free.TryAdd(batch);
                       Interlocked.Increment(ref completedCount);
                   },
                   prepareThread: () => { }))
        {
            // In bursts, each waited out: a batch left behind at a burst's end (a worker that finished
            // while the other completed, and nobody looked again) is never completed by a later one.
            var sequence = 0UL;
            var random = new Random(1);
            while (sequence < batches)
            {
                var burst = random.Next(2, Capacity + 1);
                for (var i = 0; i < burst && sequence < batches; i++, sequence++)
                {
                    Assert.True(free.Take(out var batch));
                    batch.Nonces[0] = sequence;

                    // Above the inline limit: every batch goes through the workers.
                    batch.Count = OrderedPipeline.InlineBatchLimit + 1;
                    pipeline.Submit(batch);
                }

                Assert.True(
                    SpinWait.SpinUntil(() => Volatile.Read(ref completedCount) == (int)sequence, DevicePair.Patience),
                    $"{Volatile.Read(ref completedCount)} of {sequence} batches completed");
            }
        }

        Assert.False(overlapped, "two completions ran at once");
        Assert.Equal(Enumerable.Range(0, batches).Select(i => (ulong)i), completed);
        foreach (var batch in all)
        {
            batch.Dispose();
        }
    }

    [Fact]
    public void A_tiny_batch_in_an_empty_pipeline_completes_on_the_submitting_thread()
    {
        var submitter = Environment.CurrentManagedThreadId;
        int? processedOn = null, completedOn = null;
        using var batch = new PacketBatch(1) { Count = OrderedPipeline.InlineBatchLimit };
        using (var pipeline = new OrderedPipeline(
                   "test", 2, Capacity,
                   process: _ => processedOn = Environment.CurrentManagedThreadId,
                   complete: _ => completedOn = Environment.CurrentManagedThreadId,
                   prepareThread: () => { }))
        {
            pipeline.Submit(batch);
        }

        Assert.Equal(submitter, processedOn);
        Assert.Equal(submitter, completedOn);
    }
}
