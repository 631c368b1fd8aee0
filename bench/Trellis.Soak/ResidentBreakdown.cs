using System.Globalization;

namespace Trellis.Soak;

/// <summary>
/// Where a process's resident memory is, in the three parts that tell a leak of objects from code: the
/// runtime's double-mapped executable memory (JIT code, stubs, loader heaps: `memfd:doublemapper`),
/// anonymous memory (the GC heap, malloc, stacks) and mapped files. Read from /proc/PID/smaps.
/// </summary>
internal readonly record struct ResidentBreakdown(double JitMiB, double AnonymousMiB, double FilesMiB)
{
    private const string DoubleMapper = "/memfd:doublemapper";

    public static ResidentBreakdown Read(int pid)
    {
        long jit = 0, anonymous = 0, files = 0;
        var mapping = "";
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            if (IsMappingHeader(line))
            {
                // "start-end perms offset dev inode [path]": the path is the sixth field, when there is one.
                var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
                mapping = fields.Length == 6 ? fields[5].Trim() : "";
            }
            else if (line.StartsWith("Rss:", StringComparison.Ordinal))
            {
                var kib = long.Parse(line[4..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                if (mapping.StartsWith(DoubleMapper, StringComparison.Ordinal))
                {
                    jit += kib;
                }
                else if (mapping.Length == 0 || mapping.StartsWith('['))
                {
                    anonymous += kib; // [heap], [stack] and unnamed mappings
                }
                else
                {
                    files += kib;
                }
            }
        }

        return new(jit / 1024.0, anonymous / 1024.0, files / 1024.0);
    }

    // A mapping's header starts with its address range; its fields ("Rss:", "VmFlags:") with a name and a colon.
    private static bool IsMappingHeader(string line)
    {
        var dash = line.IndexOf('-', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        return dash > 0 && space > dash && !line[..space].EndsWith(':');
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{JitMiB:F1} / {AnonymousMiB:F1} / {FilesMiB:F1}");
}
