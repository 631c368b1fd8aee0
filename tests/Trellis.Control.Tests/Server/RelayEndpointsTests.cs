using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Trellis.Control.Tests.NodeProtocol;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Net.Stun;
using System.Net.Sockets;

namespace Trellis.Control.Tests.Server;

public class RelayEndpointsTests
{
    private const string MeshKey = "0123456789abcdef0123456789abcdef-mesh";

    [Fact]
    public async Task Without_configured_regions_the_relay_map_is_the_embedded_relay_at_the_bound_port()
    {
        await using var server = await ControlServerFixture.StartAsync(o => o with { StunPort = 3479 });
        using var http = new HttpClient();
        var map = await http.GetFromJsonAsync(new Uri(server.Url, "/relay-map"), ControlJsonContext.Default.RelayMap);
        var region = Assert.Single(map!.Regions);
        Assert.Equal(900, region.Id);
        var node = Assert.Single(region.Nodes);
        Assert.Equal(new Uri(server.Url, "/relay"), node.RelayUri());
        Assert.Equal(3479, node.StunPort);

        // The embedded STUN server answers there with the asker's address.
        await using var stun = StunClient.Open(AddressFamily.InterNetwork);
        var answer = await stun.QueryAsync(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, 3479)));
        Assert.True(answer.Succeeded, answer.Error);
        Assert.Equal(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Loopback, stun.LocalEndPoint!.Port)), answer.MappedEndpoint);

        // The same map reaches nodes in their full map.
        await using var peer = new SimulatedNode(server.Url, "n");
        await peer.ConnectAsync();
        await peer.RegisterAsync(await server.AuthKeyAsync());
        await peer.StartMapAsync();
        await SimulatedNode.WaitAsync(() => peer.Received.OfType<FullMap>().Any(), "the full map");
        Assert.Equal(node, peer.Received.OfType<FullMap>().Single().RelayMap.Regions.Single().Nodes.Single());
    }

    [Fact]
    public async Task Configured_regions_replace_the_embedded_one_and_no_relay_means_an_empty_map()
    {
        var configured = new RelayMap { Regions = [new RelayRegion { Id = 901, Code = "fra", Nodes = [new RelayNode { Name = "901a", Host = "relay.example.net" }] }] };
        await using (var server = await ControlServerFixture.StartAsync(o => o with { RelayMap = configured }))
        {
            using var http = new HttpClient();
            var map = await http.GetFromJsonAsync(new Uri(server.Url, "/relay-map"), ControlJsonContext.Default.RelayMap);
            Assert.Equal("https://relay.example.net/relay", Assert.Single(Assert.Single(map!.Regions).Nodes).RelayUri().ToString());
        }

        await using (var server = await ControlServerFixture.StartAsync(o => o with { Relay = false }))
        {
            using var http = new HttpClient();
            var map = await http.GetFromJsonAsync(new Uri(server.Url, "/relay-map"), ControlJsonContext.Default.RelayMap);
            Assert.Empty(map!.Regions);
        }
    }

    [Fact]
    public async Task A_standalone_relay_with_the_mesh_key_learns_which_node_keys_are_active()
    {
        await using var server = await ControlServerFixture.StartAsync(o => o with { RelayMeshKey = MeshKey });
        await using var node = new SimulatedNode(server.Url, "n");
        await node.ConnectAsync();
        var self = (await node.RegisterAsync(await server.AuthKeyAsync())).Self!;
        var known = Key.FromBase64(self.NodeKey).ToHex();
        var unknown = new string('a', 64);

        using var http = new HttpClient();
        async Task<HttpStatusCode> Ask(string hex, string? bearer)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Url, $"/relay/v1/nodes/{hex}"));
            if (bearer is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            }

            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.NoContent, await Ask(known, MeshKey));
        Assert.Equal(HttpStatusCode.NotFound, await Ask(unknown, MeshKey));
        Assert.Equal(HttpStatusCode.BadRequest, await Ask("not-hex", MeshKey));
        Assert.Equal(HttpStatusCode.Unauthorized, await Ask(known, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await Ask(known, MeshKey + "x"));

        await server.Store.DeleteNodeAsync(self.Id);
        server.Host.Service.Removed(self.Id, "deleted");
        Assert.Equal(HttpStatusCode.NotFound, await Ask(known, MeshKey));
    }

    [Fact]
    public async Task Without_a_mesh_key_the_server_admits_no_standalone_relay()
    {
        await using var server = await ControlServerFixture.StartAsync();
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(server.Url, $"/relay/v1/nodes/{new string('a', 64)}"));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", MeshKey);
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
