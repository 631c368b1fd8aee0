using System.Net;

namespace Trellis.Control.Tests.Admin;

public sealed class OverlayRoutesApiTests : AdminApiTestBase
{
    [Fact]
    public async Task Approving_an_advertisement_inside_the_overlay_is_a_400_that_names_the_overlay_prefix()
    {
        var router = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        await Server.StoreAdvertisementDirectlyAsync(router.Id, ["10.1.0.0/24", "100.64.0.0/24"]);

        var error = ExpectError(
            await PostAsync($"/api/v1/nodes/{router.Id}/routes/approve", """{"prefixes":["100.64.0.0/24"]}"""),
            HttpStatusCode.BadRequest);

        Assert.Contains("the route '100.64.0.0/24' lies inside 100.64.0.0/10", error, StringComparison.Ordinal);
        Assert.Empty((await Server.Store.GetNodeByIdAsync(router.Id))!.ApprovedRoutes);
    }

    [Fact]
    public async Task Approving_a_route_that_contains_the_overlay_is_a_400()
    {
        var router = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        await Server.StoreAdvertisementDirectlyAsync(router.Id, ["0.0.0.0/1"]);

        var error = ExpectError(
            await PostAsync($"/api/v1/nodes/{router.Id}/routes/approve", """{"prefixes":["0.0.0.0/1"]}"""),
            HttpStatusCode.BadRequest);

        Assert.Contains("contains 100.64.0.0/10", error, StringComparison.Ordinal);
        Assert.DoesNotContain("0.0.0.0/1", Server.Mesh.Get(router.Id)!.AllowedIps);
    }
}
