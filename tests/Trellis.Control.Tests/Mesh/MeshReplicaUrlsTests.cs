using Trellis.Control.Mesh;
using Trellis.Core.Control;
using static Trellis.Control.Tests.Mesh.MeshTestPeers;

namespace Trellis.Control.Tests.Mesh;

public class MeshReplicaUrlsTests
{
    private static readonly TimeSpan Quick = TimeSpan.FromMilliseconds(50);



    [Fact]
    public async Task Every_map_names_the_replicas_and_a_new_list_reaches_connected_nodes_once_as_a_delta()
    {
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        mesh.Upsert(Node(1));
        mesh.Upsert(Node(2));
        using var before = mesh.Connect(1);
        Assert.Null((await Next<FullMap>(before)).Replicas); // a single server names none

        mesh.SetReplicaUrls(["https://a.example.com/", "https://b.example.com/"]);
        Assert.Equal(["https://a.example.com/", "https://b.example.com/"], (await Next<MapDelta>(before)).Replicas);
        using var after = mesh.Connect(2);
        Assert.Equal(["https://a.example.com/", "https://b.example.com/"], (await Next<FullMap>(after)).Replicas);

        // The same list again sends nothing; two changes before the node reads send the last.
        mesh.SetReplicaUrls(["https://a.example.com/", "https://b.example.com/"]);
        Assert.IsType<KeepaliveMessage>(await before.NextAsync(Quick, CancellationToken.None));
        mesh.SetReplicaUrls(["https://a.example.com/"]);
        mesh.SetReplicaUrls(["https://a.example.com/", "https://c.example.com/"]);
        var delta = await Next<MapDelta>(after);
        Assert.Equal(["https://a.example.com/", "https://c.example.com/"], delta.Replicas);
        Assert.Empty(delta.PeersChanged);
        Assert.IsType<KeepaliveMessage>(await after.NextAsync(Quick, CancellationToken.None));
    }
}
