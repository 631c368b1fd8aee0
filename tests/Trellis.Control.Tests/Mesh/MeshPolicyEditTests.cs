using Trellis.Control.Mesh;
using Trellis.Control.Policy;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Mesh.MeshTestPeers;

namespace Trellis.Control.Tests.Mesh;

/// <summary>An edit of one rule of a compiled policy reaches the nodes that rule names and costs nothing for the rest.</summary>
public class MeshPolicyEditTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMilliseconds(50);


    private static IAccessPolicy Policy(string webPorts) => new HuJsonPolicyCompiler().Compile($$"""
        {
          "tagOwners": { "tag:web": [], "tag:db": [] },
          "acls": [
            {"action": "accept", "src": ["alice@"], "dst": ["tag:web:{{webPorts}}"]},
            {"action": "accept", "src": ["carol@"], "dst": ["tag:db:5432"]},
          ],
        }
        """);

    private static async Task NothingMore(MeshSession session) =>
        Assert.IsType<KeepaliveMessage>(await session.NextAsync(Quick, CancellationToken.None));

    [Fact]
    public async Task A_port_added_to_one_rule_reaches_its_destination_and_leaves_other_views_untouched()
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        foreach (var node in new[] { Node(1, "alice"), Node(2, null, "tag:web"), Node(3, "carol"), Node(4, null, "tag:db") })
        {
            mesh.Upsert(node);
        }

        mesh.SetPolicy(Policy("443"));
        var sessions = new List<MeshSession>();
        for (var id = 1; id <= 4; id++)
        {
            sessions.Add(mesh.Connect(id));
            await Next<FullMap>(sessions[^1]);
        }

        var (alice, web, carol, db) = (sessions[0], sessions[1], sessions[2], sessions[3]);
        var dbFilter = db.View.Filter;

        mesh.SetPolicy(Policy("443,80"));

        var toWeb = await Next<MapDelta>(web);
        Assert.Empty(toWeb.PeersChanged);
        Assert.Equal([443, 80], toWeb.PacketFilter!.Rules.Single().Destinations.Select(d => d.FirstPort).Distinct());
        await NothingMore(alice); // her peers and (empty) filter are the same
        await NothingMore(carol);
        await NothingMore(db);

        // The db server is named by no changed rule: its view was not even recomputed (a recomputed
        // filter is a new object of equal content).
        Assert.Same(dbFilter, db.View.Filter);
        foreach (var session in sessions)
        {
            session.Dispose();
        }
    }
}
