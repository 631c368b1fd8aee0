using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests;

/// <summary>
/// An MTU set from outside (`ip link set IF mtu N`, as wg-quick sets it after the daemon starts)
/// bounds padding at once: a 1300-byte packet at MTU 1300 is padded to 1300, not to the next
/// multiple of 16, so it leaves A as a 1360-byte IPv4 datagram (1300 + 32 WireGuard + 28), never 1372.
/// </summary>
public sealed partial class MtuChangeTests(ITestOutputHelper output)
{
    private const int Mtu = 1300;
    private const int IcmpPayload = Mtu - 28; // an IPv4 ping packet of exactly the MTU
    private const int SealedLength = Mtu + 32 + 28;

    [Theory]
    [InlineData(Implementation.Trellis, Implementation.Trellis)]
    [InlineData(Implementation.Trellis, Implementation.WireGuardGo)]
    public async Task Padding_follows_an_mtu_changed_from_outside(Implementation a, Implementation b)
    {
        await using var lab = await TunnelLab.StartAsync(a, b, output);
        await lab.AssertPingsAsync(lab.A, ipv6: false);
        await lab.A.Namespace.IpAsync("link", "set", lab.A.Device.Name, "mtu", Mtu.ToString(CultureInfo.InvariantCulture));

        // Count A's datagrams to B by their IPv4 length.
        var table = "trlmtu" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        var port = TunnelLab.ListenPortB.ToString(CultureInfo.InvariantCulture);
        await NftAsync(lab, "add", "table", "ip", table);
        await NftAsync(lab, "add", "chain", "ip", table, "out", "{ type filter hook output priority 0; }");
        await NftAsync(lab, "add", "rule", "ip", table, "out", "udp", "dport", port, "ip", "length", SealedLength.ToString(CultureInfo.InvariantCulture), "counter");
        await NftAsync(lab, "add", "rule", "ip", table, "out", "udp", "dport", port, "ip", "length", ">", SealedLength.ToString(CultureInfo.InvariantCulture), "counter");

        PingResult? ping = null;
        (long Exact, long Over) counts = default;
        await Poll.UntilAsync(
            async ct =>
            {
                ping = await Pinger.PingAsync(lab.A.Namespace, lab.B.InnerIPv4.Address, count: 1, cancellationToken: ct, payloadSize: IcmpPayload);
                counts = await CountersAsync(lab, table);
                return counts.Exact > 0 && ping.AllReceived;
            },
            TimeSpan.FromSeconds(20),
            $"a ping of exactly the {Mtu}-byte MTU to leave A as a {SealedLength}-byte datagram and be answered");
        output.WriteLine($"datagrams of {SealedLength} bytes: {counts.Exact}, larger: {counts.Over}; last ping: {ping}");
    }

    private static async Task NftAsync(TunnelLab lab, params string[] arguments) =>
        (await lab.A.Namespace.ExecAsync("nft", arguments)).EnsureSuccess();

    private static async Task<(long Exact, long Over)> CountersAsync(TunnelLab lab, string table)
    {
        var listing = (await lab.A.Namespace.ExecAsync("nft", "list", "table", "ip", table)).EnsureSuccess().StandardOutput;
        var counters = CounterPattern().Matches(listing).Select(m => long.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture)).ToList();
        return counters.Count == 2 ? (counters[0], counters[1]) : throw new InvalidOperationException($"unexpected nft listing:\n{listing}");
    }

    [GeneratedRegex(@"counter packets (\d+) bytes")]
    private static partial Regex CounterPattern();
}
