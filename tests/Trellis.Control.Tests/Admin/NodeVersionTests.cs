using System.Net;
using Trellis.Core.Build;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Admin;

/// <summary>
/// A node says its version when it opens its map stream; admins see it in the node list and its peers
/// in their maps. A node from before version reporting says nothing and is listed without one.
/// </summary>
public sealed class NodeVersionTests : AdminApiTestBase
{
    [Fact]
    public async Task The_version_a_node_reports_is_listed_and_reaches_its_peers()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var desktop = await Server.RegisterAsync("alice", "desktop");
        using var peerSession = Server.Mesh.Connect(desktop.Id);
        Assert.IsType<FullMap>(await AdminTestServer.NextAsync(peerSession));

        var (session, error) = await Server.Service.OpenMapAsync(laptop.MachineKey, new MapRequest { Version = "0.1.0+0567290f61ba" });
        Assert.Null(error);
        Assert.Equal("0.1.0+0567290f61ba", await VersionSeenByPeerAsync(peerSession, laptop.Id));
        Assert.Equal("0.1.0+0567290f61ba", (await ListedAsync("laptop")).Version);

        // Still listed after it goes offline: the version is the one it last reported.
        await Server.Service.DisconnectedAsync(session!);
        Assert.Equal("0.1.0+0567290f61ba", (await ListedAsync("laptop")).Version);
    }

    [Fact]
    public async Task A_node_that_does_not_report_a_version_is_listed_without_one()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");
        var (session, _) = await Server.Service.OpenMapAsync(laptop.MachineKey, new MapRequest { Version = "0.1.0+0567290f61ba" });
        await Server.Service.DisconnectedAsync(session!);

        // Downgraded to a build from before version reporting: what it said earlier is no longer true.
        var (again, error) = await Server.Service.OpenMapAsync(laptop.MachineKey, new MapRequest());
        Assert.Null(error);
        Assert.NotNull(again);
        Assert.Null((await ListedAsync("laptop")).Version);
        Assert.Null(Server.Mesh.Get(laptop.Id)!.Version);
    }

    [Fact]
    public async Task An_overlong_version_is_refused_with_the_limit_and_the_node_stays_offline()
    {
        var laptop = await Server.RegisterAsync("alice", "laptop");

        var (session, error) = await Server.Service.OpenMapAsync(laptop.MachineKey, new MapRequest { Version = new string('9', NodeVersion.MaxLength + 1) });

        Assert.Null(session);
        Assert.Equal(ControlErrorCodes.Invalid, error!.Code);
        Assert.Contains($"at most {NodeVersion.MaxLength}", error.Message, StringComparison.Ordinal);
        var listed = await ListedAsync("laptop");
        Assert.False(listed.Online);
        Assert.Null(listed.Version);
    }

    [Fact]
    public void This_build_reports_a_version_the_server_accepts()
    {
        Assert.True(NodeVersion.IsValid(BuildInfo.Short), BuildInfo.Short);
        Assert.StartsWith(BuildInfo.Version, BuildInfo.Short, StringComparison.Ordinal);
    }

    private async Task<Trellis.Control.Admin.NodeDto> ListedAsync(string name) =>
        Expect(await GetAsync("/api/v1/nodes"), HttpStatusCode.OK, Json.IReadOnlyListNodeDto).Single(n => n.Name == name);

    private static async Task<string?> VersionSeenByPeerAsync(Trellis.Control.Mesh.MeshSession session, long nodeId)
    {
        while (true)
        {
            if (await AdminTestServer.NextAsync(session) is MapDelta delta && delta.PeersChanged.FirstOrDefault(p => p.Id == nodeId) is { Version: { } version })
            {
                return version;
            }
        }
    }
}
