using System.Globalization;

namespace Trellis.Footprint;

/// <summary>A process's memory as /proc shows it: resident in all, anonymous (heaps, stacks, JIT code) and file-backed (mapped assemblies and libraries).</summary>
internal sealed record MemorySample(double RssMiB, double AnonymousMiB, double FileMiB, int Threads)
{
    public static MemorySample Read(int pid)
    {
        var rollup = Fields($"/proc/{pid}/smaps_rollup");
        var status = Fields($"/proc/{pid}/status");
        var rss = rollup["Rss"] / 1024.0;
        var anonymous = rollup["Anonymous"] / 1024.0;
        return new MemorySample(rss, anonymous, rss - anonymous, (int)status["Threads"]);
    }

    private static Dictionary<string, long> Fields(string path)
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(path))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var value = line[(colon + 1)..].Trim().Split(' ', 2)[0];
            if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                fields[line[..colon]] = number;
            }
        }

        return fields;
    }
}
