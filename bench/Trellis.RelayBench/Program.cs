using System.Globalization;
using Trellis.RelayBench;

// Usage:
//   Trellis.RelayBench throughput [SECONDS] [RUNS] [--pin]   two clients through one relay (a child process), per packet size;
//                                                     --pin: the relay on CPU 0, the clients on CPU 1
//   Trellis.RelayBench idle [CONNECTIONS]            the relay's memory per idle connection
//   Trellis.RelayBench server PORT                   the relay the other modes start (stdin: stats, gc, quit)
var positional = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal)).ToArray();
int Arg(int index, int fallback) => positional.Length > index ? int.Parse(positional[index], CultureInfo.InvariantCulture) : fallback;

return positional.FirstOrDefault() switch
{
    "server" => await RelayServerMode.RunAsync(Arg(1, 0)),
    "throughput" when args.Contains("--pin") && !Pinning.IsPinned => await Pinning.RunPinnedAsync(args),
    "throughput" => await ThroughputBench.RunAsync(Arg(1, 5), Arg(2, 3), pinned: args.Contains("--pin")),
    "idle" => await IdleBench.RunAsync(Arg(1, 5000)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Trellis.RelayBench throughput [SECONDS] [RUNS] [--pin] | idle [CONNECTIONS] | server PORT");
    return 2;
}
