using System.Diagnostics;

namespace Trellis.Lab.Demo;

/// <summary>
/// The four-city mesh from start to end: build the world, join the devices with an auth key made on
/// the spot, watch the 12 ordered pairs settle on their paths, approve a subnet route and reach a
/// host behind it, then tear everything down (also when cancelled).
/// </summary>
public static class DemoRun
{
    /// <summary>How long the matrix is watched for every pair to settle on its final path.</summary>
    public static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(60);

    public static readonly TimeSpan MatrixInterval = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan RouteTimeout = TimeSpan.FromSeconds(30);

    /// <summary>What the lab needs besides root and /dev/net/tun.</summary>
    public static IReadOnlyList<string> RequiredTools { get; } = [.. NatLab.RequiredTools, "ping"];

    /// <param name="whileRunning">Called with the result before the teardown (--keep waits here until interrupted).</param>
    public static async Task<DemoResult> RunAsync(
        TrellisExecutable trellis,
        IDemoObserver observer,
        Func<DemoWorld, DemoResult, Task>? whileRunning,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(observer);
        await using var world = await DemoWorld.CreateAsync(trellis, observer.Progress, cancellationToken).ConfigureAwait(false);

        await world.AdminAsync(["users", "create", DemoWorld.User], cancellationToken).ConfigureAwait(false);
        var authKey = (await world.AdminAsync(["authkeys", "create", "--user", DemoWorld.User, "--reusable"], cancellationToken)
            .ConfigureAwait(false)).StandardOutput.Trim();
        observer.Progress($"user '{DemoWorld.User}' and a reusable auth key created on the spot");

        await world.UpAllAsync(authKey, cancellationToken).ConfigureAwait(false);
        var (pairs, settledAfter) = await WatchPathsAsync(world, observer, cancellationToken).ConfigureAwait(false);
        var route = await DemonstrateRouteAsync(world, observer, cancellationToken).ConfigureAwait(false);
        var result = new DemoResult(pairs, route, settledAfter);
        if (whileRunning is not null)
        {
            await whileRunning(world, result).ConfigureAwait(false);
        }

        observer.Progress("tearing down");
        return result;
    }

    /// <summary>
    /// Every ordered pair once: one ping of TO's overlay IPv4 from FROM's namespace, then the path from
    /// FROM's status (read after the pings, so it names the path that carried them).
    /// </summary>
    public static async Task<IReadOnlyList<DemoPair>> MeasureAsync(DemoWorld world, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(world);
        var devices = world.Devices;
        var ordered = devices.SelectMany(from => devices.Where(to => to != from).Select(to => (From: from, To: to))).ToList();
        var rtts = await Task.WhenAll(ordered.Select(p => p.From.PingAsync(p.To.OverlayIPv4!, cancellationToken))).ConfigureAwait(false);
        var paths = await Task.WhenAll(devices.Select(d => d.PathsAsync(cancellationToken))).ConfigureAwait(false);
        return
        [
            .. ordered.Select((p, i) => new DemoPair(
                p.From.Name,
                p.To.Name,
                paths[IndexOf(devices, p.From)].GetValueOrDefault(p.To.Name, DemoPaths.None),
                rtts[i],
                DemoCity.ExpectedPath(p.From.City, p.To.City))),
        ];
    }

    private static int IndexOf(IReadOnlyList<DemoDevice> devices, DemoDevice device) =>
        devices.Select((d, i) => (d, i)).First(x => x.d == device).i;

    /// <summary>Measures every <see cref="MatrixInterval"/> until every pair is final (returning when that round ended) or <see cref="PathTimeout"/>.</summary>
    private static async Task<(IReadOnlyList<DemoPair> Pairs, TimeSpan? SettledAfter)> WatchPathsAsync(DemoWorld world, IDemoObserver observer, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var round = Stopwatch.StartNew();
            var pairs = await MeasureAsync(world, cancellationToken).ConfigureAwait(false);
            observer.Matrix(pairs, clock.Elapsed);
            if (pairs.All(p => p.IsFinal))
            {
                var settled = clock.Elapsed;
                observer.Progress($"all 12 pairs on their final path after {settled.TotalSeconds:0.0} s");
                return (pairs, settled);
            }

            if (clock.Elapsed >= PathTimeout)
            {
                var unsettled = pairs.Where(p => !p.IsFinal).Select(p => $"{p.From}->{p.To} ({p.Path}, expected {p.Expected})");
                observer.Progress($"after {PathTimeout.TotalSeconds:0} s not every pair settled: {string.Join(", ", unsettled)}");
                return (pairs, null);
            }

            var pause = MatrixInterval - round.Elapsed;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>singapore accepts routes and amsterdam advertises its LAN: unreachable until an admin approves, then reachable.</summary>
    private static async Task<DemoRoute> DemonstrateRouteAsync(DemoWorld world, IDemoObserver observer, CancellationToken cancellationToken)
    {
        var client = world.Device(DemoWorld.RouteClientCity);
        var target = DemoWorld.SubnetHost.Address.ToString();
        var before = await client.PingAsync(target, cancellationToken).ConfigureAwait(false);
        observer.Progress($"{client.Name} -> {target} before approval: {(before is null ? "no answer (the route is only advertised)" : "answered, though nothing approved it")}");

        await world.AdminAsync(["routes", "approve", DemoWorld.SubnetCity, DemoWorld.SubnetPrefix], cancellationToken).ConfigureAwait(false);
        observer.Progress($"admin: trellis routes approve {DemoWorld.SubnetCity} {DemoWorld.SubnetPrefix}");

        var clock = Stopwatch.StartNew();
        double? rtt = null;
        while (clock.Elapsed < RouteTimeout && (rtt = await client.PingAsync(target, cancellationToken).ConfigureAwait(false)) is null)
        {
            await Task.Delay(Poll.Interval * 5, cancellationToken).ConfigureAwait(false);
        }

        observer.Progress(rtt is { } ms
            ? $"{client.Name} -> {target} after approval: answered in {ms:0.###} ms, {clock.Elapsed.TotalSeconds:0.0} s after the approval"
            : $"{client.Name} -> {target} after approval: still no answer after {RouteTimeout.TotalSeconds:0} s");
        return new DemoRoute(DemoWorld.SubnetPrefix, Approved: true, Reachable: rtt is not null, ReachableBeforeApproval: before is not null);
    }
}
