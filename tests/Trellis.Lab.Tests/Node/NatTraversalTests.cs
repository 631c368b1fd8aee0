using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// Devices behind lab NATs: where both mappings are endpoint-independent they find a direct path
/// (hole punching through both NATs); where neither is, traffic goes through the server's relay.
/// Both ways the tunnel works from the first packets.
/// </summary>
public sealed class NatTraversalTests(ITestOutputHelper output)
{
    private static readonly TimeSpan PathTimeout = TimeSpan.FromSeconds(45);

    private static async Task<JsonElement> PeerAsync(LabNode node, string peer) =>
        (await node.StatusAsync()).GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("hostname").GetString() == peer);

    private static async Task PingBothWaysAsync(LabNode a, LabNode b)
    {
        var aAddress = (await a.AddressesAsync())[0];
        var bAddress = (await b.AddressesAsync())[0];
        await Poll.UntilAsync(_ => a.PingAsync(bAddress), PathTimeout, $"{a.Name} to ping {b.Name}");
        await Poll.UntilAsync(_ => b.PingAsync(aAddress), PathTimeout, $"{b.Name} to ping {a.Name}");
    }

    [Theory]
    [InlineData(NatKind.Easy, NatKind.Easy, "direct")]
    [InlineData(NatKind.Easy, NatKind.Cgnat, "direct")]
    [InlineData(NatKind.Hard, NatKind.Hard, "relay")]
    [InlineData(NatKind.Hard, NatKind.Easy, "relay")]
    public async Task Two_nodes_behind_NATs_reach_each_other_over_the_path_the_NATs_allow(NatKind left, NatKind right, string path)
    {
        await using var mesh = await MeshLab.StartAsync(output);
        var a = await mesh.AddNodeAsync("left", await mesh.Lab.AddRouterAsync(left));
        var b = await mesh.AddNodeAsync("right", await mesh.Lab.AddRouterAsync(right));
        await a.UpAsync();
        await b.UpAsync();

        await PingBothWaysAsync(a, b);
        await Poll.UntilAsync(async _ => (await PeerAsync(a, "right")).GetProperty("path").GetString() == path, PathTimeout, $"left's path to right to be {path}");
        var peer = await PeerAsync(a, "right");
        if (path == "direct")
        {
            // The endpoint in use is the other NAT's public address.
            Assert.StartsWith("198.51.100.", peer.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal("default", peer.GetProperty("relay").GetString());
        }

        await PingBothWaysAsync(a, b);

        // `trellis ping` says which path answered, and stops at the first direct answer.
        var ping = (await a.RunAsync("ping", "right", "-c", "3")).EnsureSuccess();
        Assert.Contains(path == "direct" ? "via 198.51.100." : "via relay default", ping.StandardOutput, StringComparison.Ordinal);
        if (path == "direct")
        {
            Assert.Single(ping.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
