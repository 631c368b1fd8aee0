using System.Diagnostics;
using System.Globalization;

namespace Trellis.RelayBench;

/// <summary>Starts this program in server mode and asks it for its figures.</summary>
internal sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    /// <param name="cpu">The one CPU the relay may run on (taskset), or null: any.</param>
    public static async Task<ServerProcess> StartAsync(int? cpu = null)
    {
        var process = Process.Start(Pinning.Command(cpu, ["server", "0"], redirect: true)) ?? throw new InvalidOperationException("could not start the relay process");
        var ready = await process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the relay process exited");
        return new ServerProcess(process, new Uri(ready["ready ".Length..]));
    }

    /// <summary>The server's counters (after a full collection when <paramref name="collect"/>).</summary>
    public async Task<Dictionary<string, double>> StatsAsync(bool collect = false)
    {
        await _process.StandardInput.WriteLineAsync(collect ? "gc" : "stats");
        await _process.StandardInput.FlushAsync();
        var line = await _process.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("the relay process exited");
        return line.Split(' ').Select(kv => kv.Split('=')).ToDictionary(kv => kv[0], kv => double.Parse(kv[1], CultureInfo.InvariantCulture));
    }

    /// <summary>User plus system CPU seconds of the server process so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.WriteLine("quit");
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
