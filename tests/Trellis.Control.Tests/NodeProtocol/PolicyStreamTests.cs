using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>A policy set on a running server reaches connected nodes over the real protocol, as deltas, without restarts.</summary>
public class PolicyStreamTests
{
    private static async Task<SimulatedNode> JoinAsync(ControlServerFixture server, string user, int index, int protocol = ControlProtocol.Initial)
    {
        if (await server.Store.GetUserAsync(user) is null)
        {
            await server.Store.CreateUserAsync(user);
        }

        var key = (await server.Store.CreateAuthKeyAsync(user, null, reusable: false, ephemeral: false, null)).Value!.Plaintext;
        var node = new SimulatedNode(server.Url, $"{user}-laptop") { Protocol = protocol };
        await node.ConnectAsync();
        Assert.Equal(RegisterStatus.Active, (await node.RegisterAsync(key)).Status);
        await node.StartMapAsync($"198.51.100.{index}:41641");
        await SimulatedNode.WaitAsync(() => node.FullMaps == 1, $"{user}'s map");
        return node;
    }

    [Fact]
    public async Task A_policy_set_and_removed_on_a_running_server_changes_what_each_node_sees_and_lets_in()
    {
        await using var server = await ControlServerFixture.StartAsync(policyCompiler: new GrantPolicyCompiler());
        await using var alice = await JoinAsync(server, "alice", 1);
        await using var bob = await JoinAsync(server, "bob", 2);
        await using var carol = await JoinAsync(server, "carol", 3);
        SimulatedNode[] all = [alice, bob, carol];
        await SimulatedNode.WaitAsync(() => all.All(n => n.Peers.Count == 2), "everyone to see everyone");
        Assert.All(all, n => Assert.True(n.Filter!.AllowsAll));

        await server.Host.Policy.SetAsync(GrantPolicyCompiler.Text(("alice", "bob")), "a test", CancellationToken.None);

        await SimulatedNode.WaitAsync(
            () => alice.Peers.Keys.SequenceEqual([bob.Self!.Id]) && bob.Peers.Keys.SequenceEqual([alice.Self!.Id]) && carol.Peers.Count == 0
                && bob.Filter is { AllowsAll: false } && carol.Filter is { AllowsAll: false },
            "the policy on every node");
        Assert.Equal([$"{alice.Self!.Addresses[0]}"], bob.Filter!.Rules.SelectMany(r => r.Sources));
        Assert.All(all, n => Assert.Equal(1, n.FullMaps)); // deltas, no reconnect

        // carol moving her endpoint is not news to anyone: nobody may see her.
        var before = alice.ReceivedSoFar().Count;
        await carol.SendAsync(new EndpointUpdate { Endpoints = ["198.51.100.33:41641"] });
        await alice.SendAsync(new EndpointUpdate { Endpoints = ["198.51.100.11:41641"] });
        await SimulatedNode.WaitAsync(() => bob.Peers[alice.Self.Id].Endpoints.SequenceEqual(["198.51.100.11:41641"]), "alice's new endpoint at bob");
        Assert.DoesNotContain(alice.ReceivedSoFar().Skip(before).OfType<MapDelta>(), d => d.PeersChanged.Any(p => p.Id == carol.Self!.Id) || d.Patches.Any(p => p.Id == carol.Self!.Id));

        Assert.True(await server.Host.Policy.RemoveAsync("a test", CancellationToken.None));
        await SimulatedNode.WaitAsync(() => all.All(n => n.Peers.Count == 2 && n.Filter!.AllowsAll), "everyone to see everyone again");
    }

    [Fact]
    public async Task A_first_policy_reaches_new_nodes_as_the_peers_kept_and_old_ones_as_the_peers_lost_and_both_end_alike()
    {
        await using var server = await ControlServerFixture.StartAsync(policyCompiler: new GrantPolicyCompiler());
        await using var alice = await JoinAsync(server, "alice", 1, ControlProtocol.Current);
        await using var bob = await JoinAsync(server, "bob", 2);
        await using var carol = await JoinAsync(server, "carol", 3, ControlProtocol.Current);
        await using var dave = await JoinAsync(server, "dave", 4);
        SimulatedNode[] all = [alice, bob, carol, dave];
        await SimulatedNode.WaitAsync(() => all.All(n => n.Peers.Count == 3), "everyone to see everyone");

        await server.Host.Policy.SetAsync(GrantPolicyCompiler.Text(("alice", "bob")), "a test", CancellationToken.None);

        await SimulatedNode.WaitAsync(
            () => alice.Peers.Keys.SequenceEqual([bob.Self!.Id]) && bob.Peers.Keys.SequenceEqual([alice.Self!.Id])
                && carol.Peers.Count == 0 && dave.Peers.Count == 0,
            "the policy on every node");
        Assert.Contains(alice.ReceivedSoFar().OfType<MapDelta>(), d => d.PeersKept is [var kept] && kept == bob.Self!.Id);
        Assert.Contains(carol.ReceivedSoFar().OfType<MapDelta>(), d => d.PeersKept is []);
        foreach (var old in new[] { bob, dave })
        {
            Assert.DoesNotContain(old.ReceivedSoFar().OfType<MapDelta>(), d => d.PeersKept is not null);
        }

        // A peer joining afterwards reaches a node that was sent its kept peers as usual.
        await using var alice2 = await JoinAsync(server, "alice", 5, ControlProtocol.Current);
        await SimulatedNode.WaitAsync(() => bob.Peers.Count == 2 && alice.Peers.Count == 1, "alice's second node at bob only");
    }

    [Fact]
    public async Task A_server_with_a_policy_file_enforces_it_from_the_start_and_follows_the_file_as_it_changes()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("trellis-policy-file-").FullName, "policy.hujson");
        await File.WriteAllTextAsync(file, GrantPolicyCompiler.Text(("alice", "bob")));
        try
        {
            await using var server = await ControlServerFixture.StartAsync(o => o with { PolicyFile = file }, new GrantPolicyCompiler());
            Assert.Equal(file, server.Host.Policy.Current.Path);
            Assert.Equal(1, server.Host.Policy.Current.Rules);
            await using var alice = await JoinAsync(server, "alice", 1);
            await using var carol = await JoinAsync(server, "carol", 3);
            Assert.Empty(alice.Peers);

            var temporary = file + ".tmp";
            await File.WriteAllTextAsync(temporary, GrantPolicyCompiler.Text(("alice", "bob"), ("alice", "carol")));
            File.Move(temporary, file, overwrite: true);

            // The watcher reacts at once; its periodic check (30 s) is the backstop this timeout leaves room for.
            await SimulatedNode.WaitAsync(() => alice.Peers.Count == 1 && carol.Peers.Count == 1, "the changed file on both nodes", TimeSpan.FromSeconds(90));
            Assert.Equal(2, server.Host.Policy.Current.Rules);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }
}
