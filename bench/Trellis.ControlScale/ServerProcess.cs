using System.Diagnostics;
using System.Globalization;

namespace Trellis.ControlScale;

/// <summary>`trellis server` in its own process, so its CPU time and peak memory can be read from /proc.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    public ServerProcess(string trellis, int port, string dataDirectory)
        : this(trellis, "127.0.0.1", port, dataDirectory)
    {
    }

    /// <summary>A server listening on <paramref name="host"/> (an IPv4 literal), e.g. a veth end a namespace can reach, with <paramref name="extra"/> server flags.</summary>
    public ServerProcess(string trellis, string host, int port, string dataDirectory, params string[] extra)
    {
        var start = new ProcessStartInfo(trellis) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in (string[])["server", "--listen", $"http://{host}:{port}", "--data-dir", dataDirectory, "--keepalive", "120s", .. extra])
        {
            start.ArgumentList.Add(a);
        }

        // SERVER_ENV="NAME=value ..." reaches the server only, not the bench client, so a runtime
        // setting (e.g. a GC knob) can be compared on the server alone.
        foreach (var pair in (Environment.GetEnvironmentVariable("SERVER_ENV") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            start.Environment[pair[..eq]] = pair[(eq + 1)..];
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start trellis server");
        // The server logs its warnings on stdout: both streams go to the bench's stderr, so a closed
        // connection or a refused policy shows up beside the bench's own lines.
        _process.OutputDataReceived += (_, e) => Forward(e.Data);
        _process.ErrorDataReceived += (_, e) => Forward(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    private static void Forward(string? line)
    {
        if (line is not null)
        {
            Console.Error.WriteLine($"[server] {line}");
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>User plus system CPU seconds so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Peak resident memory (VmHWM) in MiB.</summary>
    public double PeakMemoryMiB() => ReadStatusKiB("VmHWM:") / 1024.0;

    public double MemoryMiB() => ReadStatusKiB("VmRSS:") / 1024.0;

    private long ReadStatusKiB(string field)
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                return long.Parse(line[field.Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }
}
