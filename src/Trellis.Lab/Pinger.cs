using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace Trellis.Lab;

/// <summary>Runs iputils <c>ping</c> inside a namespace (IPv4 or IPv6 by the destination's family).</summary>
public static partial class Pinger
{
    /// <summary>Runs <c>ping -n -c COUNT -i INTERVAL -W WAIT [-w DEADLINE] [-I SOURCE] [-s PAYLOAD] DESTINATION</c>.</summary>
    /// <param name="payloadSize">ICMP payload bytes (the IP packet adds 28 for IPv4, 48 for IPv6); ping's default 56 when null.</param>
    /// <param name="waitForEach">
    /// Wait up to <see cref="LateReplyDeadline"/> for every ping to be answered. Without it, once any reply
    /// came ping waits only max(2 x the largest round trip, the interval) for the last one, so on busy
    /// cores a late reply counts as lost. With it, ping keeps sending while it waits; those extra pings do
    /// not count in <see cref="PingResult.AllReceived"/>, and a lost one still fails it.
    /// </param>
    public static async Task<PingResult> PingAsync(
        NetNamespace ns,
        IPAddress destination,
        int count = 3,
        double intervalSeconds = 0.2,
        int waitSeconds = 1,
        IPAddress? source = null,
        CancellationToken cancellationToken = default,
        int? payloadSize = null,
        bool waitForEach = false)
    {
        ArgumentNullException.ThrowIfNull(ns);
        ArgumentNullException.ThrowIfNull(destination);
        var arguments = new List<string>
        {
            "-n",
            "-c", count.ToString(CultureInfo.InvariantCulture),
            "-i", intervalSeconds.ToString("0.###", CultureInfo.InvariantCulture),
            "-W", waitSeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (waitForEach)
        {
            arguments.Add("-w");
            arguments.Add(((int)LateReplyDeadline.TotalSeconds).ToString(CultureInfo.InvariantCulture));
        }

        if (source is not null)
        {
            arguments.Add("-I");
            arguments.Add(source.ToString());
        }

        if (payloadSize is int size)
        {
            arguments.Add("-s");
            arguments.Add(size.ToString(CultureInfo.InvariantCulture));
        }

        arguments.Add(destination.ToString());
        var options = new CommandOptions { Timeout = TimeSpan.FromSeconds((count * intervalSeconds) + waitSeconds + 10) + (waitForEach ? LateReplyDeadline : TimeSpan.Zero) };
        var result = await ns.ExecAsync("ping", arguments, options, cancellationToken).ConfigureAwait(false);
        return Parse(result, count);
    }

    /// <summary>How long a run with <c>waitForEach</c> may wait for its answers (ping's -w): a safety net, not a measure.</summary>
    public static readonly TimeSpan LateReplyDeadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Sends single pings (<c>-c 1 -W 1</c>) until one is answered; throws <see cref="TimeoutException"/>
    /// (with the last ping's output) when none is answered before the deadline. Returns the answered ping.
    /// </summary>
    public static async Task<PingResult> WaitForReplyAsync(
        NetNamespace ns,
        IPAddress destination,
        TimeSpan timeout,
        IPAddress? source = null,
        CancellationToken cancellationToken = default)
    {
        PingResult? last = null;
        try
        {
            return await Poll.ForValueAsync(
                async ct =>
                {
                    last = await PingAsync(ns, destination, count: 1, waitSeconds: 1, source: source, cancellationToken: ct).ConfigureAwait(false);
                    return last.AnyReceived ? last : null;
                },
                timeout,
                $"a ping reply from {destination} in {ns.Name}",
                cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last attempt: {last}", e);
        }
    }

    internal static PingResult Parse(CommandResult result, int count)
    {
        var summary = SummaryPattern().Match(result.StandardOutput);
        var transmitted = summary.Success ? int.Parse(summary.Groups[1].ValueSpan, CultureInfo.InvariantCulture) : 0;
        var received = summary.Success ? int.Parse(summary.Groups[2].ValueSpan, CultureInfo.InvariantCulture) : 0;
        var rtts = new List<double>();
        foreach (Match match in TimePattern().Matches(result.StandardOutput))
        {
            rtts.Add(double.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture));
        }

        var answered = new HashSet<int>();
        foreach (Match match in SequencePattern().Matches(result.StandardOutput))
        {
            answered.Add(int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture));
        }

        return new PingResult(count, transmitted, received, answered, rtts, result);
    }

    [GeneratedRegex(@"(\d+) packets transmitted, (\d+) (?:packets )?received")]
    private static partial Regex SummaryPattern();

    // A reply line ("64 bytes from ...: icmp_seq=2 ttl=64 time=0.1 ms"); error lines ("From ... icmp_seq=2 Destination unreachable") carry no time.
    [GeneratedRegex(@"icmp_seq=(\d+) .*time=")]
    private static partial Regex SequencePattern();

    [GeneratedRegex(@"time=([0-9.]+) ms")]
    private static partial Regex TimePattern();
}
