using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Trellis.Cli.Verbs.Admin;
using Trellis.Lab;
using Trellis.Lab.Demo;

namespace Trellis.Cli.Verbs;

/// <summary>
/// `trellis demo [--json] [--keep]`: the four-city mesh. A control server and four devices behind
/// different networks, each in its own namespace, join with an auth key made on the spot; the 12
/// ordered pairs are shown as their paths form, then a subnet route is approved and used. Everything
/// is torn down on exit, also on SIGINT/SIGTERM.
/// </summary>
internal static class DemoVerb
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "Print only the final matrix as JSON (for scripts)." };
        var keep = new Option<bool>("--keep") { Description = "Leave the mesh running to poke at with `trellis status --socket ...`, until Ctrl-C." };
        var command = new Command("demo", "Run the four-city mesh in network namespaces on this machine (needs root).") { json, keep };
        command.SetAction(parse => Run(parse.GetValue(json), parse.GetValue(keep), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(bool json, bool keep, TextWriter output, TextWriter error)
    {
        var problems = LabRequirements.FindProblems(DemoRun.RequiredTools);
        if (problems.Count > 0)
        {
            error.WriteLine($"trellis demo: cannot run here: {string.Join("; ", problems)}.");
            return CommandLine.Failure;
        }

        TrellisExecutable trellis;
        try
        {
            trellis = TrellisExecutable.Locate();
        }
        catch (FileNotFoundException e)
        {
            error.WriteLine($"trellis demo: {e.Message}");
            return CommandLine.Failure;
        }

        // Our own handlers, so an interrupt cancels the run and the teardown still happens before exit.
        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        var observer = new TextObserver(json ? error : output, showMatrix: !json);
        var kept = false;
        try
        {
            var result = DemoRun.RunAsync(trellis, observer, keep ? (world, r) => { kept = true; return KeepAsync(world, r, json, output, stop.Token); } : null, stop.Token)
                .GetAwaiter().GetResult();
            if (json && !keep)
            {
                output.WriteLine(result.ToJson());
            }
            else if (!json)
            {
                WriteSummary(result, output);
            }

            if (!result.Succeeded)
            {
                error.WriteLine("trellis demo: not every pair reached its expected path, or the route did not work (see above)");
                return CommandLine.Failure;
            }

            return CommandLine.Success;
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Ctrl-C (the children got it too, so their commands may have failed first): torn down already.
            error.WriteLine(kept ? "trellis demo: stopped" : "trellis demo: interrupted; everything was torn down");
            return kept ? CommandLine.Success : 130;
        }
        catch (Exception e) when (e is LabCommandException or TimeoutException or InvalidOperationException or IOException)
        {
            error.WriteLine($"trellis demo: {e.Message}");
            return CommandLine.Failure;
        }
    }

    private static async Task KeepAsync(DemoWorld world, DemoResult result, bool json, TextWriter output, CancellationToken stop)
    {
        if (json)
        {
            await output.WriteLineAsync(result.ToJson()).ConfigureAwait(false);
        }
        else
        {
            WriteSummary(result, output);
        }

        await output.WriteLineAsync("\nThe mesh keeps running; look at it with:").ConfigureAwait(false);
        foreach (var device in world.Devices)
        {
            await output.WriteLineAsync($"  trellis status --socket {device.Socket}    # {device.Name}; its shell: ip netns exec {device.Host.Namespace.Name} bash").ConfigureAwait(false);
        }

        await output.WriteLineAsync($"  trellis routes list --admin-socket {world.AdminSocket}").ConfigureAwait(false);
        await output.WriteLineAsync("Press Ctrl-C to tear it all down.").ConfigureAwait(false);
        await output.FlushAsync(stop).ConfigureAwait(false);
        await Task.Delay(Timeout.Infinite, stop).ConfigureAwait(false);
    }

    private static void WriteSummary(DemoResult result, TextWriter output)
    {
        var route = result.Route;
        output.WriteLine();
        output.WriteLine($"{result.Pairs.Count(p => p.IsFinal)}/{result.Pairs.Count} pairs on the path their networks allow; " +
                         $"{result.Tunnels} tunnels, none configured by hand");
        output.WriteLine($"subnet route {route.Prefix} via {DemoWorld.SubnetCity}: {(route.Approved ? "approved" : "not approved")}, " +
                         $"{(route.Reachable ? $"reachable from {DemoWorld.RouteClientCity}" : "NOT reachable")}");
    }

    internal static void WriteMatrix(IReadOnlyList<DemoPair> pairs, TextWriter output)
    {
        var table = new TextTable("FROM", "TO", "PATH", "RTT");
        foreach (var pair in pairs)
        {
            var rtt = pair.RttMs is { } ms ? ms.ToString("0.000", CultureInfo.InvariantCulture) + " ms" : "-";
            table.Add(pair.From, pair.To, pair.IsFinal || pair.Path == DemoPaths.None ? pair.Path : $"{pair.Path} (forming)", rtt);
        }

        table.WriteTo(output);
    }

    /// <summary>Progress lines with the time since the start; the matrix every round unless only JSON is wanted.</summary>
    private sealed class TextObserver(TextWriter output, bool showMatrix) : IDemoObserver
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();

        public void Progress(string line)
        {
            output.WriteLine($"[{_clock.Elapsed.TotalSeconds,5:0.0}s] {line}");
            output.Flush();
        }

        public void Matrix(IReadOnlyList<DemoPair> pairs, TimeSpan elapsed)
        {
            var settled = pairs.Count(p => p.IsFinal);
            Progress($"paths {elapsed.TotalSeconds:0} s after joining: {settled}/{pairs.Count} pairs on their final path");
            if (showMatrix)
            {
                WriteMatrix(pairs, output);
                output.WriteLine($"{DemoResult.CountTunnels(pairs)} tunnels, none configured by hand");
                output.WriteLine();
                output.Flush();
            }
        }
    }
}
