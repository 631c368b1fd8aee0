using System.Diagnostics;

namespace Trellis.RelayBench;

/// <summary>
/// The pinned layout: the relay process on CPU 0, this process (both clients) on CPU 1, so the relay's
/// figure is per core of its own, as the published relays' are per vCPU. taskset starts each process
/// already pinned, so every thread the runtime makes inherits the mask (setting a running process's
/// affinity on Linux pins only its main thread), and the runtime sizes itself to the one core it sees.
/// </summary>
internal static class Pinning
{
    public const int RelayCpu = 0;
    public const int ClientsCpu = 1;

    /// <summary>True once this process runs on <see cref="ClientsCpu"/> alone.</summary>
    public static bool IsPinned =>
        File.ReadLines("/proc/self/status").Any(line => line == $"Cpus_allowed_list:\t{ClientsCpu}");

    /// <summary>Runs this program again, pinned to <see cref="ClientsCpu"/>, with the same arguments; its exit code.</summary>
    public static async Task<int> RunPinnedAsync(string[] args)
    {
        if (Environment.ProcessorCount < 2)
        {
            await Console.Error.WriteLineAsync("--pin needs two CPUs: one for the relay, one for the clients");
            return 2;
        }

        using var process = Process.Start(Command(ClientsCpu, args)) ?? throw new InvalidOperationException("could not start taskset");
        await process.WaitForExitAsync();
        return process.ExitCode;
    }

    /// <summary>This program under <c>taskset -c CPU</c> (or unpinned, when <paramref name="cpu"/> is null).</summary>
    public static ProcessStartInfo Command(int? cpu, IEnumerable<string> args, bool redirect = false)
    {
        var start = new ProcessStartInfo(cpu is null ? Environment.ProcessPath! : "taskset")
        {
            RedirectStandardInput = redirect,
            RedirectStandardOutput = redirect,
        };
        if (cpu is { } c)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(c.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add(Environment.ProcessPath!);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }
}
