using System.Globalization;
using System.Text.RegularExpressions;

namespace Trellis.Lab.Tests.Replicas;

/// <summary>
/// `ping -D -i 0.2` from one node to another's overlay address, left running across an event: the
/// longest stretch without a reply (between replies, and from the last reply to the stop) is how
/// long the tunnel carried nothing.
/// </summary>
public sealed partial class ContinuousPing
{
    private readonly LabProcess _process;

    private ContinuousPing(LabProcess process, string pair)
    {
        _process = process;
        Pair = pair;
    }

    /// <summary>"from to to", for the output.</summary>
    public string Pair { get; }

    public static ContinuousPing Start(ReplicaNode from, ReplicaNode to, string address) =>
        new(from.Host.Namespace.StartProcess("ping", ["-D", "-n", "-i", "0.2", "-W", "1", address]), $"{from.Name} to {to.Name}");

    /// <summary>True once a reply came back: gaps are counted from the first reply on.</summary>
    public bool Replied => Replies(_process.Output).Any();

    /// <summary>Stops the ping and returns its longest stretch without a reply, and how many replies came.</summary>
    public async Task<(TimeSpan LongestGap, int Replies)> StopAsync()
    {
        var stoppedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        await _process.StopAsync(UnixSignal.Interrupt);
        var replies = Replies(_process.Output).ToList();
        Assert.True(replies.Count > 0, $"no reply to the ping from {Pair}:\n{_process.Output}");
        var longest = stoppedAt - replies[^1];
        for (var i = 1; i < replies.Count; i++)
        {
            longest = Math.Max(longest, replies[i] - replies[i - 1]);
        }

        return (TimeSpan.FromSeconds(Math.Max(0, longest)), replies.Count);
    }

    /// <summary>The Unix times (ping -D) of the replies, in order.</summary>
    private static IEnumerable<double> Replies(string output) =>
        ReplyLine().Matches(output).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture));

    [GeneratedRegex(@"^\[(\d+\.\d+)\] \d+ bytes from ", RegexOptions.Multiline)]
    private static partial Regex ReplyLine();
}
