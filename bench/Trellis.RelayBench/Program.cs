using System.Globalization;
using Trellis.RelayBench;

// Usage:
//   Trellis.RelayBench throughput [SECONDS] [RUNS]   two clients through one relay (a child process), per packet size
//   Trellis.RelayBench idle [CONNECTIONS]            the relay's memory per idle connection
//   Trellis.RelayBench server PORT                   the relay the other modes start (stdin: stats, gc, quit)
int Arg(int index, int fallback) => args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

return args.FirstOrDefault() switch
{
    "server" => await RelayServerMode.RunAsync(Arg(1, 0)),
    "throughput" => await ThroughputBench.RunAsync(Arg(1, 5), Arg(2, 3)),
    "idle" => await IdleBench.RunAsync(Arg(1, 5000)),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Trellis.RelayBench throughput [SECONDS] [RUNS] | idle [CONNECTIONS] | server PORT");
    return 2;
}
