using System.Net;
using System.Text.Json;
using Trellis.Control.Admin;
using Trellis.Core.Build;

namespace Trellis.Control.Tests.Admin;

/// <summary>GET /api/v1/server: what the console's server page shows.</summary>
public sealed class ServerApiTests : AdminApiTestBase
{
    [Fact]
    public async Task The_server_says_its_version_uptime_node_counts_database_and_policy_source()
    {
        await Server.Service.LoadAsync(CancellationToken.None); // as the server does at start: the uptime counts from here
        var laptop = await Server.RegisterAsync("alice", "laptop");
        await Server.RegisterAsync("alice", "desktop");
        var (session, _) = await Server.Service.OpenMapAsync(laptop.MachineKey, new Core.Control.MapRequest());
        Server.Clock.Advance(TimeSpan.FromMinutes(90));

        var (status, body) = await SendAsync(HttpMethod.Get, "/api/v1/server");
        using var anonymous = AdminTestServer.Client(Server.Url, apiKey: null);
        using var refused = await anonymous.GetAsync("/api/v1/server");

        Assert.Equal(HttpStatusCode.OK, status);
        var info = JsonSerializer.Deserialize(body, Json.ServerInfoDto)!;
        Assert.Equal(BuildInfo.Version, info.Version);
        Assert.Equal(90 * 60, info.UptimeSeconds);
        Assert.Equal(2, info.Nodes);
        Assert.Equal(1, info.NodesOnline);
        Assert.Equal("sqlite", info.Database);
        Assert.Equal("none", info.PolicySource);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.NotNull(session);
    }
}
