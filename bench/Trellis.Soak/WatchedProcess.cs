using System.Diagnostics;
using System.Globalization;

namespace Trellis.Soak;

/// <summary>
/// One process of the mesh whose memory the soak follows: its resident memory from /proc, and its GC
/// heap: a daemon's from its own status (`trellis status --json`, memory.gcHeapBytes, JIT or NativeAOT
/// alike), the server's as `dotnet-counters collect` reports it once a minute.
/// </summary>
internal sealed class WatchedProcess : IDisposable
{
    private readonly string _countersFile;
    private readonly Process? _counters;
    private readonly Func<CancellationToken, Task<double?>>? _ownHeap;

    /// <param name="ownHeap">Reads the process's GC heap in MiB from the process itself; null: from dotnet-counters, if it runs JIT.</param>
    public WatchedProcess(string name, int pid, bool jit, string workDirectory, string? dotnetCounters, Func<CancellationToken, Task<double?>>? ownHeap = null)
    {
        Name = name;
        Pid = pid;
        _ownHeap = ownHeap;
        _countersFile = Path.Combine(workDirectory, $"counters-{pid}.csv");
        if (ownHeap is null && jit && dotnetCounters is not null)
        {
            var start = new ProcessStartInfo(dotnetCounters)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[]
            {
                "collect", "-p", pid.ToString(CultureInfo.InvariantCulture), "--refresh-interval", "60", "--format", "csv",
                "-o", _countersFile, "--counters", "System.Runtime[dotnet.gc.last_collection.heap.size]",
            })
            {
                start.ArgumentList.Add(argument);
            }

            _counters = Process.Start(start);
            _counters?.StandardOutput.ReadToEndAsync();
            _counters?.StandardError.ReadToEndAsync();
        }
    }

    public string Name { get; }

    public int Pid { get; }

    /// <summary>The GC heap after the latest collection in MiB (every generation), or null if unknown yet.</summary>
    public async Task<double?> GcHeapMiBAsync(CancellationToken cancellationToken)
    {
        if (_ownHeap is not null)
        {
            try
            {
                return await _ownHeap(cancellationToken);
            }
            catch (Exception e) when (e is Trellis.Lab.LabCommandException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return null; // a status that failed or a daemon that does not report its heap
            }
        }

        return CountersHeapMiB();
    }

    private double? CountersHeapMiB()
    {
        if (_counters is null || !File.Exists(_countersFile))
        {
            return null;
        }

        // Rows: Timestamp,Provider,Counter Name,Counter Type,Mean/Increment, one per generation per interval.
        string[] lines;
        using (var stream = new FileStream(_countersFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
        using (var reader = new StreamReader(stream))
        {
            lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        }

        var rows = lines.Skip(1).Select(l => l.Split(',')).Where(f => f.Length >= 5 && f[2].Contains("heap.size", StringComparison.Ordinal)).ToList();
        if (rows.Count == 0)
        {
            return null;
        }

        var latest = rows[^1][0];
        return rows.Where(r => r[0] == latest).Sum(r => double.Parse(r[^1], CultureInfo.InvariantCulture)) / 1048576.0;
    }

    public void Dispose()
    {
        if (_counters is { HasExited: false })
        {
            _counters.Kill();
        }

        _counters?.Dispose();
    }
}
