using System.Globalization;
using Trellis.Control.Admin;
using Trellis.Core.Control;

namespace Trellis.Cli.Tests.Admin;

public sealed class NodesCliTests : AdminCliTestBase
{
    [Fact]
    public async Task Nodes_are_listed_as_a_table_and_as_json()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        await Server.RegisterAsync("bob", "desktop");
        await Server.RegisterPendingAsync("stranger");

        var (session, _) = await Server.Service.OpenMapAsync(laptop.MachineKey, new MapRequest { Version = "0.1.0+0567290f61ba" });
        await Server.Service.DisconnectedAsync(session!);

        var rows = Rows(await OkAsync("nodes", "list"));
        Assert.Equal(["ID", "NAME", "OWNER", "IPV4", "IPV6", "STATUS", "ONLINE", "LAST SEEN", "KEY EXPIRY", "VERSION"], rows[0]);
        Assert.Equal(3, rows.Count - 1);
        Assert.Equal([laptop.Id.ToString(CultureInfo.InvariantCulture), "laptop", "alice", laptop.IPv4!.ToString(), laptop.IPv6!.ToString(), "active", "no"], rows[1][..7]);
        Assert.Equal(["stranger", "-", "-", "-", "pending"], rows[3][1..6]);

        // The version the node reported when it last connected; a node from before version reporting: unknown.
        Assert.Equal(["0.1.0+0567290f61ba", "unknown", "unknown"], rows.Skip(1).Select(row => row[^1]));

        var alices = await JsonAsync(Json.IReadOnlyListNodeDto, "nodes", "list", "--user", "alice");
        Assert.Equal("laptop", Assert.Single(alices).Name);
    }

    [Fact]
    public async Task A_node_is_renamed_expired_and_deleted_by_name_or_id()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");

        Assert.Equal($"renamed node {laptop.Id} to work\n", await OkAsync("nodes", "rename", "laptop", "Work"));
        var expired = await JsonAsync(Json.NodeDto, "nodes", "expire", "work");
        Assert.True(expired.Expired);
        Assert.Null(Server.Service.Mesh.Get(laptop.Id));

        Assert.Equal($"deleted node {laptop.Id}\n", await OkAsync("nodes", "delete", laptop.Id.ToString(CultureInfo.InvariantCulture)));
        Assert.Empty(await JsonAsync(Json.IReadOnlyListNodeDto, "nodes", "list"));
    }

    [Fact]
    public async Task Expiring_a_node_takes_it_out_and_says_how_it_comes_back()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var stranger = await Server.RegisterPendingAsync("stranger");

        var said = await OkAsync("nodes", "expire", "laptop");

        Assert.Contains($"expired node laptop (id {laptop.Id})", said, StringComparison.Ordinal);
        Assert.Contains("new node key", said, StringComparison.Ordinal);
        Assert.Contains($"trellis nodes approve {laptop.Id}", said, StringComparison.Ordinal);
        Assert.Null(Server.Service.Mesh.Get(laptop.Id));
        var row = Rows(await OkAsync("nodes", "list")).Single(r => r[1] == "laptop");
        Assert.Equal("expired", row[5]);

        var refused = ExpectFailure(await RunAsync("nodes", "expire", "stranger"), 1);
        Assert.Contains("never approved", refused, StringComparison.Ordinal);
        Assert.Contains($"trellis nodes delete {stranger.Id}", refused, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pending_node_is_approved_for_a_user_or_tags()
    {
        await OkAsync("users", "create", "alice");
        var first = await Server.RegisterPendingAsync("stranger");
        var second = await Server.RegisterPendingAsync("printer");

        Assert.Equal($"approved node stranger (id {first.Id}) for alice\n", await OkAsync("nodes", "approve", "stranger", "--user", "alice"));
        var tagged = await JsonAsync(Json.NodeDto, "nodes", "approve", second.Id.ToString(CultureInfo.InvariantCulture), "--tags", "printers");
        Assert.Equal(NodeDto.Active, tagged.Status);
        Assert.Equal(["tag:printers"], tagged.Tags);

        Assert.Contains("not pending", ExpectFailure(await RunAsync("nodes", "approve", "stranger", "--user", "alice"), 1));
    }

    [Fact]
    public async Task Unknown_nodes_exit_1_and_malformed_ones_2()
    {
        await Server.RegisterAsync("alice", "laptop");
        Assert.Contains("no node named 'ghost'", ExpectFailure(await RunAsync("nodes", "delete", "ghost"), 1));
        Assert.Contains("no node with id 999", ExpectFailure(await RunAsync("nodes", "expire", "999"), 1));
        Assert.Contains("neither a node id nor a node name", ExpectFailure(await RunAsync("nodes", "delete", "bad/name"), 2));
        ExpectFailure(await RunAsync("nodes", "rename", "laptop"), 2);
        ExpectFailure(await RunAsync("nodes", "approve", "laptop", "--user", "alice", "--tags", "x"), 2);
        Assert.Contains("invalid node name", ExpectFailure(await RunAsync("nodes", "rename", "laptop", "bad_name"), 1));
    }
}
