using System.Globalization;

namespace Trellis.Lab.Tests;

/// <summary>The lab's own pieces, checked on their own so an interop failure is not a harness failure.</summary>
public sealed class LabSelfTests
{
    [Fact]
    public async Task A_namespace_runs_commands_inside_and_is_deleted_on_dispose()
    {
        LabRequirements.EnsureAvailable();
        string name;
        await using (var ns = await NetNamespace.CreateAsync())
        {
            name = ns.Name;
            var links = await ns.ExecAsync("ip", "-o", "link", "show");
            Assert.True(links.Succeeded, links.ToString());
            Assert.Contains("lo:", links.StandardOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("eth0", links.StandardOutput, StringComparison.Ordinal);
            Assert.True(NetNamespace.TryParseOwner(name, NetNamespace.DefaultPrefix, out var pid));
            Assert.Equal(Environment.ProcessId, pid);
        }

        Assert.DoesNotContain(name, (await HostCommand.RunAsync("ip", "netns", "list")).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Leftovers_of_dead_runs_are_deleted_and_live_ones_kept()
    {
        LabRequirements.EnsureAvailable();
        var dead = string.Create(CultureInfo.InvariantCulture, $"{NetNamespace.DefaultPrefix}{int.MaxValue}-0badc0");
        (await HostCommand.RunAsync("ip", "netns", "add", dead)).EnsureSuccess();
        await using var live = await NetNamespace.CreateAsync();

        var deleted = await NetNamespace.DeleteLeftoversAsync();

        Assert.Contains(dead, deleted);
        Assert.DoesNotContain(live.Name, deleted);
        var list = (await HostCommand.RunAsync("ip", "netns", "list")).StandardOutput;
        Assert.DoesNotContain(dead, list, StringComparison.Ordinal);
        Assert.Contains(live.Name, list, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_process_that_ignores_sigterm_is_killed_after_the_grace_period()
    {
        LabRequirements.EnsureAvailable();
        await using var ns = await NetNamespace.CreateAsync();
        var polite = ns.StartProcess("sleep", ["60"]);
        var stubborn = ns.StartProcess("sh", ["-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"]);
        await Poll.UntilAsync(() => stubborn.Output.Contains("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the shell's trap");

        Assert.Equal(128 + (int)UnixSignal.Terminate, await polite.StopAsync());
        Assert.Equal(128 + (int)UnixSignal.Kill, await stubborn.StopAsync(gracePeriod: TimeSpan.FromMilliseconds(300)));
        Assert.Contains("SIGKILL", stubborn.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_command_past_its_timeout_is_killed_and_reported()
    {
        var result = await HostCommand.RunAsync("sleep", ["30"], new CommandOptions { Timeout = TimeSpan.FromMilliseconds(200) });
        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.Throws<LabCommandException>(() => result.EnsureSuccess());
    }

    [Fact]
    public async Task A_veth_link_carries_ipv4_and_ipv6_at_once()
    {
        LabRequirements.EnsureAvailable();
        await using var left = await NetNamespace.CreateAsync();
        await using var right = await NetNamespace.CreateAsync();
        await using var link = await VethLink.CreateAsync(left, right);

        var v4 = await Pinger.PingAsync(left, link.Right.IPv4.Address, count: 2, waitForEach: true);
        var v6 = await Pinger.PingAsync(right, link.Left.IPv6.Address, count: 2, waitForEach: true);
        Assert.True(v4.AllReceived, v4.ToString());
        Assert.True(v6.AllReceived, v6.ToString());
        Assert.Equal(2, v4.RoundTripMilliseconds.Count);
    }

    [Fact]
    public async Task A_ping_run_that_waits_for_late_replies_still_fails_on_a_lost_one()
    {
        LabRequirements.EnsureAvailable(["nft"]);
        await using var ns = await NetNamespace.CreateAsync();
        (await ns.ExecAsync("ip", "link", "set", "lo", "up")).EnsureSuccess();
        var loopback = System.Net.IPAddress.Loopback;
        Assert.True((await Pinger.PingAsync(ns, loopback, count: 3, waitForEach: true)).AllReceived);

        // The second echo request is dropped: ping sends a fourth while it waits, and three answers come
        // back, but the run's second ping was never answered.
        (await ns.ExecAsync("nft", "add table inet t; add chain inet t in { type filter hook input priority 0; }; add rule inet t in icmp type echo-request numgen inc mod 3 == 1 drop")).EnsureSuccess();
        var lossy = await Pinger.PingAsync(ns, loopback, count: 3, waitForEach: true);
        Assert.Equal(3, lossy.Received);
        Assert.DoesNotContain(2, lossy.Answered);
        Assert.False(lossy.AllReceived, lossy.ToString());
    }

    [Fact]
    public async Task Poll_names_what_it_waited_for_when_time_runs_out()
    {
        var e = await Assert.ThrowsAsync<TimeoutException>(
            () => Poll.UntilAsync(() => false, TimeSpan.FromMilliseconds(250), "the impossible"));
        Assert.Contains("the impossible", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Addresses_parse_and_format_as_wg_prints_them()
    {
        var v6 = LabAddress.Parse("fd10::3/64");
        Assert.Equal("fd10::3/64", v6.ToString());
        Assert.Equal("fd10::3/128", v6.HostPrefix);
        Assert.Equal("[fd10::3]:51821", v6.Endpoint(51821));
        Assert.Equal("10.0.0.3:51821", LabAddress.Parse("10.0.0.3/24").Endpoint(51821));
        Assert.Throws<FormatException>(() => LabAddress.Parse("10.0.0.3/33"));
        Assert.Throws<FormatException>(() => LabAddress.Parse("10.0.0.3"));
    }
}
