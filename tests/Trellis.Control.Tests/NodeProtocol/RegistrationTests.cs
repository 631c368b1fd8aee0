using System.Net.WebSockets;
using Trellis.Control.Server;
using Trellis.Core.Control;
using Trellis.Crypto;

namespace Trellis.Control.Tests.NodeProtocol;

public class RegistrationTests
{
    [Fact]
    public async Task A_good_key_registers_and_the_node_gets_addresses_from_both_overlay_prefixes()
    {
        await using var server = await ControlServerFixture.StartAsync();
        await using var node = new SimulatedNode(server.Url, "Laptop One");
        await node.ConnectAsync();
        var reply = await node.RegisterAsync(await server.AuthKeyAsync());
        Assert.Equal("active", reply.Status);
        Assert.Equal("laptop-one", reply.Self!.Name);
        Assert.StartsWith("100.", reply.Self.Addresses[0], StringComparison.Ordinal);
        Assert.StartsWith("fd", reply.Self.Addresses[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Expired_unknown_and_malformed_keys_are_rejected_with_a_reason()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var expired = await server.AuthKeyAsync(expires: server.Clock.GetUtcNow().AddMinutes(1));
        server.Clock.Advance(TimeSpan.FromMinutes(2));
        var unknown = (await server.AuthKeyAsync()).Replace("trellis-auth-", "trellis-auth-x", StringComparison.Ordinal);
        foreach (var key in new[] { expired, unknown, "not-a-key", "" })
        {
            await using var node = new SimulatedNode(server.Url, "n");
            await node.ConnectAsync();
            var reply = await node.RegisterAsync(key);
            Assert.Equal("rejected", reply.Status);
            Assert.False(string.IsNullOrWhiteSpace(reply.Error));
        }

        var nodes = await server.Store.ListNodesAsync();
        Assert.Empty(nodes.Value!);
    }

    [Fact]
    public async Task A_registration_the_database_fails_is_answered_with_unavailable_and_the_next_one_after_it_recovers_works()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var key = await server.AuthKeyAsync();
        await AlterAsync(server, "ALTER TABLE Nodes RENAME TO NodesAway");

        await using (var node = new SimulatedNode(server.Url, "early"))
        {
            await node.ConnectAsync();
            await node.SendAsync(new RegisterRequest { NodeKey = X25519.PublicKey(node.NodeKey).ToBase64(), DiscoKey = X25519.PublicKey(node.DiscoKey).ToBase64(), Hostname = "early", AuthKey = key });
            var error = Assert.IsType<ErrorMessage>(await node.ReceiveAsync());
            Assert.Equal(ControlErrorCodes.Unavailable, error.Code);
            Assert.Contains("database", error.Message, StringComparison.Ordinal);
            Assert.Null(await node.ReceiveAsync());
        }

        await AlterAsync(server, "ALTER TABLE NodesAway RENAME TO Nodes");
        await using var later = new SimulatedNode(server.Url, "later");
        await later.ConnectAsync();
        Assert.Equal("active", (await later.RegisterAsync(key)).Status);
    }

    /// <summary>Changes the server's SQLite database behind its back, as a broken or half-restored database would be.</summary>
    private static async Task AlterAsync(ControlServerFixture server, string sql)
    {
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={server.Options.SqlitePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_single_use_key_registers_exactly_one_of_many_concurrent_nodes()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var key = await server.AuthKeyAsync(reusable: false);
        var nodes = Enumerable.Range(0, 12).Select(i => new SimulatedNode(server.Url, $"racer{i}")).ToList();
        await Task.WhenAll(nodes.Select(n => n.ConnectAsync()));
        var replies = await Task.WhenAll(nodes.Select(n => n.RegisterAsync(key)));
        Assert.Equal(1, replies.Count(r => r.Status == "active"));
        Assert.Equal(11, replies.Count(r => r.Status == "rejected"));
        Assert.Single((await server.Store.ListNodesAsync()).Value!);
        foreach (var n in nodes)
        {
            await n.DisposeAsync();
        }
    }

    [Fact]
    public async Task Without_a_key_the_node_waits_for_an_admin_and_gets_no_map_until_approved()
    {
        await using var server = await ControlServerFixture.StartAsync();
        await using var node = new SimulatedNode(server.Url, "pending-box");
        await node.ConnectAsync();
        var reply = await node.RegisterAsync(null);
        Assert.Equal("pending", reply.Status);
        Assert.EndsWith($"trellis nodes approve {reply.Self!.Id} --user USER", reply.ApproveHint, StringComparison.Ordinal);
        Assert.Empty(reply.Self!.Addresses);

        await node.StartMapAsync();
        await SimulatedNode.WaitAsync(() => node.EndedWith == "pending", "the map request to be refused");
    }

    [Fact]
    public async Task A_map_request_from_an_unknown_machine_is_refused()
    {
        await using var server = await ControlServerFixture.StartAsync();
        await using var node = new SimulatedNode(server.Url, "stranger");
        await node.ConnectAsync();
        await node.StartMapAsync();
        await SimulatedNode.WaitAsync(() => node.EndedWith == "not-registered", "the refusal");
    }

    [Fact]
    public async Task Re_registering_with_a_new_node_key_rotates_it_in_place()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var key = await server.AuthKeyAsync();
        await using var node = new SimulatedNode(server.Url, "rotator");
        await node.ConnectAsync();
        var first = await node.RegisterAsync(key);
        node.RotateNodeKey();
        var second = await node.RegisterAsync(key);
        Assert.Equal(first.Self!.Id, second.Self!.Id);
        Assert.NotEqual(first.Self.NodeKey, second.Self.NodeKey);
        Assert.Equal(first.Self.Addresses, second.Self.Addresses);
    }

    [Fact]
    public async Task An_expired_node_comes_back_with_a_new_node_key_as_the_same_node_with_the_same_addresses()
    {
        // Short, because the fake clock fires every periodic timer for each period it skips.
        var lifetime = TimeSpan.FromHours(1);
        await using var server = await ControlServerFixture.StartAsync(o => o with { NodeKeyExpiry = lifetime });
        var key = await server.AuthKeyAsync(expires: server.Clock.GetUtcNow().AddDays(1));
        await using var node = new SimulatedNode(server.Url, "laptop");
        await node.ConnectAsync();
        var first = (await node.RegisterAsync(key)).Self!;
        var stored = await server.Store.GetNodeByIdAsync(first.Id);
        Assert.Equal(lifetime.TotalMinutes, (stored!.KeyExpiry!.Value - server.Clock.GetUtcNow()).TotalMinutes, precision: 3);

        // The maintenance sweep takes the expired node out of the mesh (each poll moves its clock one period on).
        server.Clock.Advance(lifetime);
        await SimulatedNode.WaitAsync(
            () =>
            {
                server.Clock.Advance(MaintenanceService.Period);
                return server.Host.Service.Mesh.Get(first.Id) is null;
            },
            "the expired node to leave the mesh");

        var sameKey = await node.RegisterAsync(key);
        Assert.Equal("rejected", sameKey.Status);
        Assert.Contains("generate a new node key", sameKey.Error, StringComparison.Ordinal);

        // Without a key it waits for an admin, whose command keeps the owner it had (no --user to give).
        node.RotateNodeKey();
        var pending = await node.RegisterAsync(null);
        Assert.Equal("pending", pending.Status);
        Assert.EndsWith($"trellis nodes approve {first.Id}", pending.ApproveHint, StringComparison.Ordinal);

        node.RotateNodeKey();
        var back = await node.RegisterAsync(key);

        Assert.Equal("active", back.Status);
        Assert.Equal((first.Id, first.Name), (back.Self!.Id, back.Self.Name));
        Assert.Equal(first.Addresses, back.Self.Addresses);
        Assert.NotEqual(first.NodeKey, back.Self.NodeKey);
        Assert.Equal(back.Self.NodeKey, server.Host.Service.Mesh.Get(first.Id)?.NodeKey);
    }

    [Fact]
    public async Task Garbage_and_bad_handshakes_are_refused_and_the_server_keeps_serving()
    {
        await using var server = await ControlServerFixture.StartAsync();
        var ws = new UriBuilder(server.Url) { Scheme = "ws", Path = "/control" }.Uri;
        foreach (var garbage in new[] { new byte[] { 1, 2, 3 }, new byte[96], new byte[70000] })
        {
            using var socket = new ClientWebSocket();
            await socket.ConnectAsync(ws, CancellationToken.None);
            await socket.SendAsync(garbage, WebSocketMessageType.Binary, true, CancellationToken.None);
            var buffer = new byte[256];
            var result = await socket.ReceiveAsync(buffer, CancellationToken.None);
            Assert.Equal(WebSocketMessageType.Close, result.MessageType);
        }

        using (var http = new HttpClient())
        {
            var plain = await http.GetAsync(new Uri(server.Url, "/control"));
            Assert.Equal(System.Net.HttpStatusCode.UpgradeRequired, plain.StatusCode);
        }

        await using var node = new SimulatedNode(server.Url, "still-works");
        await node.ConnectAsync();
        Assert.Equal("active", (await node.RegisterAsync(await server.AuthKeyAsync())).Status);
    }

    [Fact]
    public async Task Invalid_JSON_inside_the_channel_ends_that_connection_only()
    {
        await using var server = await ControlServerFixture.StartAsync();
        await using var good = new SimulatedNode(server.Url, "good");
        await good.ConnectAsync();
        await good.RegisterAsync(await server.AuthKeyAsync());

        await using var bad = new SimulatedNode(server.Url, "bad");
        await bad.ConnectAsync();
        await bad.SendAsync(new RegisterRequest { NodeKey = "short", DiscoKey = "short", Hostname = "x" });
        await bad.StartMapAsync(); // reader running; the register reply arrives as a message
        await SimulatedNode.WaitAsync(() => bad.Received.OfType<RegisterResponse>().Any(r => r.Status == "rejected"), "the rejection of bad keys");

        await good.StartMapAsync();
        await SimulatedNode.WaitAsync(() => good.FullMaps == 1, "the good node's map");
    }

    [Theory]
    [InlineData("{\"type\":\"register\",")]
    [InlineData("{\"type\":\"nonsense\"}")]
    [InlineData("not json at all")]
    public async Task Malformed_JSON_or_an_oversized_frame_inside_the_channel_closes_that_connection_only(string json)
    {
        await using var server = await ControlServerFixture.StartAsync();
        var key = await server.AuthKeyAsync();
        await using var good = new SimulatedNode(server.Url, "good");
        await good.ConnectAsync();
        await good.RegisterAsync(key);
        await good.StartMapAsync();

        var body = System.Text.Encoding.UTF8.GetBytes(json);
        var framed = new byte[4 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(framed, body.Length);
        body.CopyTo(framed, 4);
        var oversized = new byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(oversized, int.MaxValue);
        foreach (var frame in new[] { framed, oversized })
        {
            await using var bad = new SimulatedNode(server.Url, "bad");
            await bad.ConnectAsync();
            await bad.StartMapAsync(); // starts its reader; the refusal of the map request arrives first
            await SimulatedNode.WaitAsync(() => bad.EndedWith == "not-registered", "the refusal of the map request");
            await bad.SendFramedAsync(frame);
            await SimulatedNode.WaitAsync(() => bad.Closed, "the server to close the bad connection");
        }

        await SimulatedNode.WaitAsync(() => good.FullMaps == 1, "the good node's map");
        Assert.Null(good.EndedWith);
        Assert.Single((await server.Store.ListNodesAsync()).Value!);
    }

    [Theory]
    [InlineData(0)] // a forged message of the right shape: fails authentication
    [InlineData(1)] // a truncated one: shorter than its tag
    public async Task A_forged_or_truncated_Noise_message_after_the_handshake_closes_that_connection_only(int kind)
    {
        await using var server = await ControlServerFixture.StartAsync();
        var key = await server.AuthKeyAsync();
        await using var good = new SimulatedNode(server.Url, "good");
        await good.ConnectAsync();
        await good.RegisterAsync(key);
        await good.StartMapAsync();

        await using var bad = new SimulatedNode(server.Url, "bad");
        await bad.ConnectAsync();
        await bad.StartMapAsync();
        await SimulatedNode.WaitAsync(() => bad.EndedWith == "not-registered", "the refusal of the map request");
        var message = kind == 0 ? System.Security.Cryptography.RandomNumberGenerator.GetBytes(64) : new byte[7];
        await bad.SendRawAsync(message);
        await SimulatedNode.WaitAsync(() => bad.Closed, "the server to close the bad connection");

        await SimulatedNode.WaitAsync(() => good.FullMaps == 1, "the good node's map");
        Assert.Null(good.EndedWith);
        Assert.Single((await server.Store.ListNodesAsync()).Value!);
    }
}
