using Trellis.Control.Replicas;
using Trellis.Control.Server;
using Trellis.Control.Store;
using Trellis.Control.Tests.NodeProtocol;
using Trellis.Control.Tests.Server;
using Trellis.Control.Tests.Store;
using Trellis.Core.Control;
using Trellis.Relay.Client;

namespace Trellis.Control.Tests.Replicas;

/// <summary>
/// Two `trellis server` replicas on one PostgreSQL database, each with its own live mesh: what one
/// is told reaches the nodes connected to the other through the change feed.
/// </summary>
public sealed class ReplicaTests : IAsyncLifetime
{
    // A safety net for a busy machine: a replica learns another's relay at its next directory read.
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(60);

    private string _database = null!;
    private Func<Task> _drop = null!;
    private readonly List<IAsyncDisposable> _owned = [];

    public async Task InitializeAsync() => (_database, _drop) = await PostgresTestDatabase.CreateEmptyAsync();

    public async Task DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync();
        }

        await _drop();
    }

    private static Trellis.Core.Keys.Key NewKey() => Trellis.Crypto.X25519.PublicKey(Trellis.Crypto.X25519.GeneratePrivateKey());

    private async Task<ControlServerFixture> ReplicaAsync(string? publicUrl = null)
    {
        var replica = await ControlServerFixture.StartAsync(o => o with { Database = _database, PublicUrl = publicUrl });
        _owned.Add(replica);
        return replica;
    }

    /// <summary>
    /// A replica whose public URL is its own address, as the relay mesh needs (the port is reserved
    /// first, so the URL is known before it starts), sharing <paramref name="first"/>'s server key as
    /// replicas must.
    /// </summary>
    private async Task<ControlServerFixture> RelayReplicaAsync(ControlServerFixture? first = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            int port;
            using (var reserve = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
            {
                reserve.Start();
                port = ((System.Net.IPEndPoint)reserve.LocalEndpoint).Port;
            }

            try
            {
                var replica = await ControlServerFixture.StartAsync(o =>
                {
                    if (first is not null)
                    {
                        File.Copy(Path.Combine(first.DataDirectory, ServerKey.FileName), Path.Combine(o.DataDirectory, ServerKey.FileName));
                    }

                    return o with { Database = _database, Listen = $"http://127.0.0.1:{port}", PublicUrl = $"http://127.0.0.1:{port}/" };
                });
                _owned.Add(replica);
                return replica;
            }
            catch (IOException e) when (attempt < 5 && e.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException)
            {
                // Another process (tests run side by side) took the port between its release and the
                // bind: a reservation cannot be handed over atomically, so take another.
            }
        }
    }

    private RelayClient RelayClientOf(ControlServerFixture replica, SimulatedNode node)
    {
        var client = new RelayClient(new RelayClientOptions { Url = new Uri(replica.Url, "/relay"), PrivateKey = node.NodeKey });
        _owned.Add(client);
        return client;
    }

    private static Task ExchangeAsync(RelayClient from, RelayClient to, string text) =>
        RelayExchange.SendAsync(from, to, text, TimeSpan.FromSeconds(30));

    /// <summary>The relay URLs <paramref name="replica"/>'s embedded relay has a connected mesh link to.</summary>
    private static string[] MeshedWith(ControlServerFixture replica) =>
        [.. replica.Host.Relay!.MeshLinks.Where(l => l.Connected).Select(l => l.Url.ToString()).Order(StringComparer.Ordinal)];

    private static string RelayUrlOf(ControlServerFixture replica) => new Uri(replica.Url, "/relay").ToString();

    private async Task<SimulatedNode> JoinAsync(ControlServerFixture replica, string name, string authKey, string endpoint)
    {
        var node = new SimulatedNode(replica.Url, name);
        _owned.Add(node);
        await node.ConnectAsync();
        Assert.Equal(RegisterStatus.Active, (await node.RegisterAsync(authKey)).Status);
        await node.StartMapAsync(endpoint);
        await SimulatedNode.WaitAsync(() => node.FullMaps == 1, $"{name}'s map");
        return node;
    }

    [Fact]
    public async Task Changes_made_on_one_replica_reach_nodes_connected_to_the_other()
    {
        var a = await ReplicaAsync();
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");

        // B starts while A has a node online: it must not mark that node offline.
        var b = await ReplicaAsync();
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");
        var idA = onA.Self!.Id;
        var idB = onB.Self!.Id;

        await SimulatedNode.WaitAsync(() => onB.Peers.TryGetValue(idA, out var p) && p.Online, "the node on A, online, in the map of the node on B");
        await SimulatedNode.WaitAsync(() => onA.Peers.TryGetValue(idB, out var p) && p.Online, "the node on B, online, in the map of the node on A");

        Assert.True((await a.Host.Service.RenameNodeAsync(idA, "renamed-on-a")).Succeeded);
        await SimulatedNode.WaitAsync(() => onB.Peers[idA].Name == "renamed-on-a", "the rename made on A at the node on B");

        await onA.SendAsync(new EndpointUpdate { Endpoints = ["203.0.113.7:1234"], HomeRelay = 901 });
        await SimulatedNode.WaitAsync(
            () => onB.Peers[idA].Endpoints.SequenceEqual(["203.0.113.7:1234"]) && onB.Peers[idA].HomeRelay == 901, "the endpoints reported to A at the node on B");

        await onA.DisconnectAsync();
        await SimulatedNode.WaitAsync(() => !onB.Peers[idA].Online, "the node on A offline at the node on B");

        Assert.True((await b.Host.Service.DeleteNodeAsync(idA)).Succeeded);
        await SimulatedNode.WaitAsync(() => !onB.Peers.ContainsKey(idA) && a.Host.Service.Mesh.Get(idA) is null, "the node deleted on B gone from A's mesh");
    }

    [Fact]
    public async Task A_peer_relay_offer_and_a_varying_mapping_reported_to_one_replica_reach_nodes_on_the_other()
    {
        var a = await ReplicaAsync();
        var b = await ReplicaAsync();
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");
        var idA = onA.Self!.Id;
        await SimulatedNode.WaitAsync(() => onB.Peers.TryGetValue(idA, out var p) && p.Online, "the node on A, online, at the node on B");
        Assert.False(onB.Peers[idA].PeerRelay);

        await onA.SendAsync(new EndpointUpdate { Endpoints = ["203.0.113.7:1234"], PeerRelay = true, MappingVaries = true });
        await SimulatedNode.WaitAsync(
            () => onB.Peers[idA] is { PeerRelay: true, MappingVaries: true }, "the node on A's peer relay offer and varying mapping at the node on B");

        // Offline, a node offers nothing: B learns that too, though only A saw it go.
        await onA.DisconnectAsync();
        await SimulatedNode.WaitAsync(
            () => onB.Peers[idA] is { Online: false, PeerRelay: false, MappingVaries: false }, "the node on A offline, offering no relay, at the node on B");
    }

    [Fact]
    public async Task A_policy_set_on_one_replica_is_in_force_on_the_other()
    {
        var a = await ReplicaAsync();
        var b = await ReplicaAsync();
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");
        await SimulatedNode.WaitAsync(() => onB.Peers.ContainsKey(onA.Self!.Id), "the node on A at the node on B");

        const string grantsNothing = """{ "acls": [] }""";
        await a.Host.Policy.SetAsync(grantsNothing, "a test", CancellationToken.None);
        await SimulatedNode.WaitAsync(() => onB.Peers.Count == 0, "the node on B to lose its peer under the policy set on A");
        Assert.Equal(grantsNothing, b.Host.Policy.Current.Text);

        // Also the node on A: until it has lost its peer, "sees its peer again" below would already hold.
        await SimulatedNode.WaitAsync(() => onA.Peers.Count == 0, "the node on A to lose its peer under the policy set on A");

        Assert.True(await b.Host.Policy.RemoveAsync("a test", CancellationToken.None));
        await SimulatedNode.WaitAsync(() => onA.Peers.ContainsKey(onB.Self!.Id), "the node on A to see its peer again after B removed the policy");
        Assert.Null(a.Host.Policy.Current.Text);
    }

    [Fact]
    public async Task A_single_use_key_raced_on_two_replicas_registers_exactly_one_node_and_both_meshes_agree()
    {
        var a = await ReplicaAsync();
        var b = await ReplicaAsync();
        for (var round = 0; round < 5; round++)
        {
            var key = await a.AuthKeyAsync(reusable: false);
            var first = new SimulatedNode(a.Url, $"first{round}");
            var second = new SimulatedNode(b.Url, $"second{round}");
            _owned.Add(first);
            _owned.Add(second);
            await Task.WhenAll(first.ConnectAsync(), second.ConnectAsync());
            var replies = await Task.WhenAll(first.RegisterAsync(key), second.RegisterAsync(key));
            Assert.Single(replies, r => r.Status == RegisterStatus.Active);
        }

        var stored = (await a.Store.ListNodesAsync()).Value!.Select(n => n.Id).Order().ToList();
        Assert.Equal(5, stored.Count);
        await SimulatedNode.WaitAsync(
            () => a.Host.Service.Mesh.NodeIds.Order().SequenceEqual(stored) && b.Host.Service.Mesh.NodeIds.Order().SequenceEqual(stored),
            "both replicas' meshes to hold exactly the stored nodes");
    }

    [Fact]
    public async Task The_nodes_of_a_replica_that_died_go_offline_everywhere_and_a_node_that_moved_on_stays_online()
    {
        var b = await ReplicaAsync();
        var c = await ReplicaAsync();
        var key = await b.AuthKeyAsync();

        // Replica A as the database knows it: its presence, and a node it holds. Ending its
        // presence session is what killing A does; A's clean shutdown (each stream's node marked
        // offline) never happens.
        var origin = ReplicaIdentity.New().Origin;
        var session = new Npgsql.NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString;
        var presence = await ReplicaPresence.JoinAsync(session, origin, () => Task.CompletedTask, CancellationToken.None);
        await using (presence)
        {
            var onA = new ControlStore(TrellisDbContextFactory.Postgres(_database), TimeProvider.System, new ControlStoreOptions { ReplicaOrigin = origin });
            var stale = Assert.IsType<RegistrationResult.Registered>(await onA.RegisterNodeAsync(
                new(key, NewKey(), NewKey(), NewKey(), "held-by-a"))).Node;
            Assert.True((await onA.SetConnectedAsync(stale.Id, null)).Succeeded);

            // A node that was on A and has since reconnected to C.
            var mover = new SimulatedNode(c.Url, "mover");
            _owned.Add(mover);
            await mover.ConnectAsync();
            var registered = await mover.RegisterAsync(key);
            Assert.Equal(RegisterStatus.Active, registered.Status);
            var moverId = registered.Self!.Id;
            Assert.True((await onA.SetConnectedAsync(moverId, null)).Succeeded);
            await mover.StartMapAsync("198.51.100.3:41641");
            await SimulatedNode.WaitAsync(() => mover.FullMaps == 1, "the mover's map from C");

            var onB = await JoinAsync(b, "on-b", key, "198.51.100.1:41641");
            var onC = await JoinAsync(c, "on-c", key, "198.51.100.2:41641");
            await SimulatedNode.WaitAsync(
                () => onB.Peers.TryGetValue(stale.Id, out var p) && p.Online && onC.Peers.TryGetValue(stale.Id, out var q) && q.Online
                    && onB.Peers.TryGetValue(moverId, out var m) && m.Online,
                "the node A holds and the mover, online, at the nodes on B and C");
            await presence.DisposeAsync();

            // Whichever of B and C holds the maintenance lease notices at its next sweep.
            await SimulatedNode.WaitAsync(
                () =>
                {
                    b.Clock.Advance(MaintenanceService.Period);
                    c.Clock.Advance(MaintenanceService.Period);
                    return !onB.Peers[stale.Id].Online && !onC.Peers[stale.Id].Online;
                },
                "the node A held offline at the nodes on B and C");
            Assert.False((await b.Store.GetNodeByIdAsync(stale.Id))!.Online);
            Assert.True((await b.Store.GetNodeByIdAsync(moverId))!.Online);
            Assert.True(onB.Peers[moverId].Online);
        }
    }

    [Fact]
    public async Task Nodes_learn_every_replica_with_a_public_url_and_forget_one_that_stops_without_waiting_for_the_sweep()
    {
        var a = await ReplicaAsync("https://a.example.com/");
        await ReplicaAsync(); // no public URL configured: never advertised
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");
        Assert.Equal(["https://a.example.com/"], onA.Replicas);

        // A replica that joins reaches the node connected to A as a delta.
        var b = await ReplicaAsync("https://b.example.com/");
        await SimulatedNode.WaitAsync(
            () => onA.Replicas is ["https://a.example.com/", "https://b.example.com/"], "the node on A to learn B's URL");
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");
        Assert.Equal(["https://a.example.com/", "https://b.example.com/"], onB.Replicas);

        // Its presence session ends (as when it is killed): it leaves the list though its row stays
        // until a sweep, which no clock here moves on to.
        _owned.Remove(b);
        await b.DisposeAsync();
        await SimulatedNode.WaitAsync(() => onA.Replicas is ["https://a.example.com/"], "the node on A to forget the stopped replica B");
    }

    [Fact]
    public async Task The_replicas_relays_mesh_so_nodes_homed_on_different_replicas_reach_each_other_and_the_mesh_follows_replicas_joining_and_stopping()
    {
        var a = await RelayReplicaAsync();
        var b = await RelayReplicaAsync(first: a);
        var key = await a.AuthKeyAsync();
        var onA = await JoinAsync(a, "on-a", key, "198.51.100.1:41641");
        var onB = await JoinAsync(b, "on-b", key, "198.51.100.2:41641");

        // No flag set: each relay linked to the other from the roster (B's within a directory period).
        await SimulatedNode.WaitAsync(() => MeshedWith(a).SequenceEqual([RelayUrlOf(b)]) && MeshedWith(b).SequenceEqual([RelayUrlOf(a)]), "the two replicas' relays meshed", MeshTimeout);

        // Each node homed on its own replica's relay; a packet for the other goes one hop across the mesh.
        var ra = RelayClientOf(a, onA);
        var rb = RelayClientOf(b, onB);
        await ra.ConnectAsync();
        await rb.ConnectAsync();
        await SimulatedNode.WaitAsync(
            () => a.Host.Relay!.Stats.RemoteClients == 1 && b.Host.Relay!.Stats.RemoteClients == 1, "each relay to know the node on the other");
        await ExchangeAsync(ra, rb, "from the node on A to the node on B");
        await ExchangeAsync(rb, ra, "from the node on B to the node on A");
        Assert.Equal(1, a.Host.Relay!.Stats.MeshPacketsForwarded);
        Assert.Equal(1, b.Host.Relay!.Stats.MeshPacketsForwarded);

        // A third replica joins the mesh of the two, and its node reaches the node on A.
        var c = await RelayReplicaAsync(first: a);
        await SimulatedNode.WaitAsync(
            () => MeshedWith(a).SequenceEqual(new[] { RelayUrlOf(b), RelayUrlOf(c) }.Order(StringComparer.Ordinal))
                && MeshedWith(c).SequenceEqual(new[] { RelayUrlOf(a), RelayUrlOf(b) }.Order(StringComparer.Ordinal)),
            "the third replica's relay meshed with both", MeshTimeout);
        var onC = await JoinAsync(c, "on-c", key, "198.51.100.3:41641");
        var rc = RelayClientOf(c, onC);
        await rc.ConnectAsync();
        await SimulatedNode.WaitAsync(() => a.Host.Relay!.Stats.RemoteClients == 2 && c.Host.Relay!.Stats.RemoteClients == 2, "A's and C's relays to know the node on C and the node on A");
        await ExchangeAsync(rc, ra, "from the node on C to the node on A");
        await ExchangeAsync(ra, rc, "from the node on A to the node on C");

        // C stops: the others unlink from it (its roster lock is free at once; no sweep needed).
        _owned.Remove(c);
        await c.DisposeAsync();
        await SimulatedNode.WaitAsync(
            () => a.Host.Relay!.MeshLinks.All(l => l.Url.ToString() != RelayUrlOf(c)) && b.Host.Relay!.MeshLinks.All(l => l.Url.ToString() != RelayUrlOf(c)),
            "A and B to unlink from the stopped replica", MeshTimeout);
        Assert.Equal([RelayUrlOf(b)], MeshedWith(a));
        await ExchangeAsync(ra, rb, "from the node on A to the node on B, after C stopped");
    }

    [Fact]
    public async Task One_replica_at_a_time_holds_the_maintenance_lease_and_another_takes_it_when_the_holder_goes()
    {
        await ReplicaAsync(); // migrates the database
        var session = new Npgsql.NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString;
        await using var first = new MaintenanceLease(session);
        await using var second = new MaintenanceLease(session);
        Assert.True(await first.HoldAsync(CancellationToken.None));
        Assert.False(await second.HoldAsync(CancellationToken.None));
        Assert.True(await first.HoldAsync(CancellationToken.None));

        await first.DisposeAsync();
        await SimulatedNode.WaitAsync(() => second.HoldAsync(CancellationToken.None), "the second to take the lease");
    }
}
