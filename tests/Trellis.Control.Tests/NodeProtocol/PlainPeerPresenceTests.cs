using Trellis.Control.Mesh;
using Trellis.Control.Tests.Admin;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>
/// A plain WireGuard peer is online as its gateway's handshakes with it show: the gateway reports
/// them, peers see the plain peer come and go, and nobody else may speak for it.
/// </summary>
public sealed class PlainPeerPresenceTests
{
    private sealed record Setup(AdminTestServer Server, Trellis.Control.Store.Node Gateway, Trellis.Control.Store.Node Phone, MeshSession Laptop, MeshSession GatewaySession);

    private static async Task<Setup> StartAsync(AdminTestServer server)
    {
        var gateway = await server.RegisterAsync("alice", "gateway");
        var (gatewaySession, error) = await server.Service.OpenMapAsync(gateway.MachineKey, new MapRequest { Endpoints = ["198.51.100.7:41641"] });
        Assert.Null(error);
        Assert.True((await server.Service.SetGatewayAsync(gateway.Id, true, null)).Succeeded);
        var phone = (await server.Service.AddPlainPeerAsync("phone", "alice", null, "gateway")).Value!.Node;
        var laptop = await server.RegisterAsync("alice", "laptop");
        var laptopSession = server.Mesh.Connect(laptop.Id);
        var full = Assert.IsType<FullMap>(await AdminTestServer.NextAsync(laptopSession));
        Assert.False(full.Peers.Single(p => p.Id == phone.Id).Online);
        return new Setup(server, gateway, phone, laptopSession, gatewaySession!);
    }

    [Fact]
    public async Task The_gateway_reports_handshakes_and_peers_see_the_plain_peer_online_until_its_handshake_is_too_old()
    {
        await using var server = await AdminTestServer.StartAsync();
        var setup = await StartAsync(server);
        using var laptop = setup.Laptop;

        Assert.Null(await server.Service.ReportPlainPeersAsync(setup.Gateway.MachineKey, Report(setup.Phone.Id, 5)));
        Assert.True(await SeenOnlineAsync(laptop, setup.Phone.Id, true));
        var stored = (await server.Store.GetNodeByIdAsync(setup.Phone.Id))!;
        Assert.True(stored.Online);
        Assert.Equal(server.Clock.GetUtcNow().AddSeconds(-5), stored.LastSeen!.Value, TimeSpan.FromSeconds(1));

        var tooOld = (long)PlainPeerPresence.OnlineWindow.TotalSeconds;
        Assert.Null(await server.Service.ReportPlainPeersAsync(setup.Gateway.MachineKey, Report(setup.Phone.Id, tooOld)));
        Assert.True(await SeenOnlineAsync(laptop, setup.Phone.Id, false));
        Assert.False((await server.Store.GetNodeByIdAsync(setup.Phone.Id))!.Online);
    }

    [Fact]
    public async Task Its_plain_peers_go_offline_when_the_gateway_disconnects()
    {
        await using var server = await AdminTestServer.StartAsync();
        var setup = await StartAsync(server);
        using var laptop = setup.Laptop;
        Assert.Null(await server.Service.ReportPlainPeersAsync(setup.Gateway.MachineKey, Report(setup.Phone.Id, 1)));
        Assert.True(await SeenOnlineAsync(laptop, setup.Phone.Id, true));

        await server.Service.DisconnectedAsync(setup.GatewaySession);

        Assert.True(await SeenOnlineAsync(laptop, setup.Phone.Id, false));
        Assert.False((await server.Store.GetNodeByIdAsync(setup.Phone.Id))!.Online);
        Assert.False(server.Mesh.Get(setup.Gateway.Id)!.Online);
    }

    [Fact]
    public async Task Only_the_plain_peers_own_gateway_may_report_for_it_and_an_oversized_report_is_refused_whole()
    {
        await using var server = await AdminTestServer.StartAsync();
        var setup = await StartAsync(server);
        using var laptop = setup.Laptop;
        var other = await server.RegisterAsync("alice", "other");
        Assert.Null((await server.Service.OpenMapAsync(other.MachineKey, new MapRequest { Endpoints = ["198.51.100.8:41641"] })).Error);

        var notGateway = await server.Service.ReportPlainPeersAsync(other.MachineKey, Report(setup.Phone.Id, 1));
        Assert.Equal(ControlErrorCodes.Invalid, notGateway!.Code);
        Assert.Contains("not a gateway", notGateway.Message, StringComparison.Ordinal);

        Assert.True((await server.Service.SetGatewayAsync(other.Id, true, null)).Succeeded);
        var otherGateway = await server.Service.ReportPlainPeersAsync(other.MachineKey, Report(setup.Phone.Id, 1));
        Assert.Contains($"ids {setup.Phone.Id}", otherGateway!.Message, StringComparison.Ordinal);

        var mixed = await server.Service.ReportPlainPeersAsync(setup.Gateway.MachineKey, new PlainPeerReport
        {
            Peers = [new PlainPeerHandshake { Id = other.Id, AgeSeconds = 1 }, new PlainPeerHandshake { Id = setup.Phone.Id, AgeSeconds = -3 }],
        });
        Assert.Contains("2 entries", mixed!.Message, StringComparison.Ordinal);

        var oversized = new PlainPeerReport { Peers = [.. Enumerable.Range(0, PlainPeerPresence.MaxPeersPerReport + 1).Select(_ => new PlainPeerHandshake { Id = setup.Phone.Id, AgeSeconds = 1 })] };
        Assert.Contains("over the limit", (await server.Service.ReportPlainPeersAsync(setup.Gateway.MachineKey, oversized))!.Message, StringComparison.Ordinal);

        Assert.False((await server.Store.GetNodeByIdAsync(setup.Phone.Id))!.Online);
        Assert.True((await server.Store.GetNodeByIdAsync(other.Id))!.Online); // a Trellis node's presence is its own connection's
        Assert.False(server.Mesh.Get(setup.Phone.Id)!.Online);
    }

    private static PlainPeerReport Report(long id, long age) => new() { Peers = [new PlainPeerHandshake { Id = id, AgeSeconds = age }] };

    /// <summary>Reads the session until the peer's entry or a patch says <paramref name="online"/>.</summary>
    private static async Task<bool> SeenOnlineAsync(MeshSession session, long id, bool online)
    {
        while (await AdminTestServer.NextAsync(session) is { } message)
        {
            if (message is MapDelta delta &&
                (delta.Patches.Any(p => p.Id == id && p.Online == online) || delta.PeersChanged.Any(p => p.Id == id && p.Online == online)))
            {
                return true;
            }
        }

        return false;
    }
}
