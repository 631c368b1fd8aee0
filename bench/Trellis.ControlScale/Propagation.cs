using System.Diagnostics;
using System.Globalization;

namespace Trellis.ControlScale;

/// <summary>
/// One change and how it spread: the nodes it had to reach, how many it did and how fast, the
/// servers' CPU for it (each server's; null on a row that splits another row's change), and the nodes
/// it should not have reached that received something anyway.
/// </summary>
internal sealed record Propagation(string Change, int Expected, int Reached, double P50, double P99, double Max, IReadOnlyList<double>? Cpu, int Unexpected)
{
    public int Missed => Expected - Reached;

    public string Row(int nodes) => string.Create(
        CultureInfo.InvariantCulture,
        $"| {nodes} | {Change} | {Expected} | {P50:F0} / {P99:F0} / {Max:F0} | {(Cpu is null ? "(the same change)" : SumAndLargest(Cpu, "F2"))} | {Missed} | {Unexpected} |");

    /// <summary>One server's figure as it is; several servers' as their sum and, in brackets, the largest.</summary>
    public static string SumAndLargest(IReadOnlyList<double> each, string format) => each.Count == 1
        ? each[0].ToString(format, CultureInfo.InvariantCulture)
        : $"{each.Sum().ToString(format, CultureInfo.InvariantCulture)} ({each.Max().ToString(format, CultureInfo.InvariantCulture)})";
}

/// <summary>Some of the nodes a change reaches, reported on their own row as well (e.g. those sent the old form).</summary>
internal sealed record NodeGroup(string Name, Func<ScaleClient, bool> Contains);

/// <summary>Times a change from the moment it is made until every node it must reach has received a message.</summary>
internal sealed class PropagationMeter(List<ScaleClient> clients, ReplicaSet servers)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxQuietWait = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);

    /// <summary>Waits until no client has received anything for a second, so one change's traffic is not counted for the next.</summary>
    public static async Task WaitQuietAsync()
    {
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < MaxQuietWait && Stopwatch.GetElapsedTime(ScaleClient.LastMessageAt) < Quiet)
        {
            await Task.Delay(Poll).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes the change and waits for the nodes in the set it returns (node ids; the change may
    /// only know them once made, as a joiner's), then for quiet, and counts who else got something.
    /// The node that makes the change (<paramref name="origin"/>) hears back about itself and is not counted.
    /// </summary>
    public async Task<List<Propagation>> MeasureAsync(string name, Func<Task<IReadOnlySet<long>>> change, long? origin = null, IReadOnlyList<NodeGroup>? groups = null)
    {
        await WaitQuietAsync().ConfigureAwait(false);
        var watched = clients.Where(c => c.Self!.Id != origin).ToList();
        foreach (var c in watched)
        {
            c.Arm();
        }

        var cpu = servers.CpuSeconds();
        var t0 = Stopwatch.GetTimestamp();
        var expectedIds = await change().ConfigureAwait(false);
        var expected = watched.Where(c => expectedIds.Contains(c.Self!.Id)).ToList();
        var waited = Stopwatch.StartNew();
        while (expected.Any(c => c.FirstAfterArm == 0) && waited.Elapsed < Deadline)
        {
            await Task.Delay(Poll).ConfigureAwait(false);
        }

        double[] cpuUsed = [.. servers.CpuSeconds().Select((seconds, i) => seconds - cpu[i])];
        await WaitQuietAsync().ConfigureAwait(false);
        Propagation Of(string row, Func<ScaleClient, bool> included, IReadOnlyList<double>? cpuSeconds)
        {
            var latencies = expected.Where(c => included(c) && c.FirstAfterArm != 0)
                .Select(c => Stopwatch.GetElapsedTime(t0, c.FirstAfterArm).TotalMilliseconds).Order().ToList();
            var unexpected = watched.Count(c => included(c) && !expectedIds.Contains(c.Self!.Id) && c.FirstAfterArm != 0);
            double At(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
            var result = new Propagation(row, expected.Count(included), latencies.Count, At(0.5), At(0.99), latencies.Count == 0 ? double.NaN : latencies[^1], cpuSeconds, unexpected);
            Console.Error.WriteLine($"[bench] {result.Row(clients.Count)}");
            return result;
        }

        List<Propagation> results = [Of(name, _ => true, cpuUsed)];
        foreach (var group in groups ?? [])
        {
            results.Add(Of($"{name}: {group.Name}", group.Contains, null));
        }

        return results;
    }
}
