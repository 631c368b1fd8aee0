using System.Globalization;
using System.Text.RegularExpressions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// A ping every 200 ms from one node to another's overlay address, each reply stamped by ping itself
/// (<c>-D</c>; iputils writes every line at once), so the first answer after a change is timed to a
/// fifth of a second without a process start per look. Its pings are only timed, never asserted on.
/// </summary>
internal sealed partial class ReplyClock : IAsyncDisposable
{
    private readonly LabProcess _ping;

    private ReplyClock(LabProcess ping) => _ping = ping;

    public static ReplyClock Start(LabNode from, string address) =>
        new(from.Host.Namespace.StartProcess("ping", ["-n", "-D", "-i", "0.2", address]));

    /// <summary>Waits (up to <paramref name="timeout"/>, a safety net) for the first reply; the seconds from <paramref name="since"/> to it.</summary>
    public async Task<double> FirstReplyAsync(DateTimeOffset since, TimeSpan timeout, string description)
    {
        var first = await Poll.ForValueAsync(
            _ => Task.FromResult(StampedReply().Match(_ping.Output) is { Success: true } m ? m : null),
            timeout,
            description);
        var at = DateTimeOffset.UnixEpoch.AddTicks((long)(double.Parse(first.Groups[1].ValueSpan, CultureInfo.InvariantCulture) * TimeSpan.TicksPerSecond));
        return (at - since).TotalSeconds;
    }

    public async ValueTask DisposeAsync() => await _ping.DisposeAsync();

    // "[1765012345.123456] 64 bytes from 100.64.0.2: icmp_seq=5 ttl=64 time=0.6 ms"
    [GeneratedRegex(@"^\[([0-9]+\.[0-9]+)\] [0-9]+ bytes from .*time=", RegexOptions.Multiline)]
    private static partial Regex StampedReply();
}
