using Trellis.Core.Control;

namespace Trellis.Cli.Tests.Admin;

public sealed class RoutesCliTests : AdminCliTestBase
{
    [Fact]
    public async Task Routes_are_listed_approved_and_rejected()
    {
        var router = await Server.RegisterAsync("alice", "router", ["10.1.0.0/24", "fd00:1::/64"]);
        var laptop = await Server.RegisterAsync("alice", "laptop");
        using var session = Server.Service.Mesh.Connect(laptop.Id);
        await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None); // the full map

        var rows = Rows(await OkAsync("routes", "list"));
        Assert.Equal(["ID", "NODE", "PREFIX", "ADVERTISED", "APPROVED", "SERVED"], rows[0]);
        Assert.Equal(["router", "10.1.0.0/24", "yes", "no", "no"], rows[1][1..]);
        Assert.Equal(["router", "fd00:1::/64", "yes", "no", "no"], rows[2][1..]);

        rows = Rows(await OkAsync("routes", "approve", "router", "10.1.0.0/24"));
        Assert.Equal(["router", "10.1.0.0/24", "yes", "yes", "yes"], rows[1][1..]);
        var delta = Assert.IsType<MapDelta>(await session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None));
        Assert.Contains("10.1.0.0/24", Assert.Single(delta.PeersChanged).AllowedIps);

        var rejected = await JsonAsync(Json.NodeRoutesDto, "routes", "reject", router.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "10.1.0.0/24");
        Assert.Empty(rejected.Approved);

        var listed = await JsonAsync(Json.IReadOnlyListNodeRoutesDto, "routes", "list");
        Assert.Equal(["10.1.0.0/24", "fd00:1::/64"], Assert.Single(listed).Advertised);
    }

    [Theory]
    [InlineData("routes", "approve", "router")]
    [InlineData("routes", "approve", "router", "10.1.0.1/24")]
    [InlineData("routes", "approve", "router", "10.1.0.0")]
    [InlineData("routes", "reject", "router", "not-a-prefix")]
    [InlineData("routes", "approve")]
    public async Task Bad_prefixes_and_missing_arguments_are_usage_errors(params string[] args)
    {
        await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        ExpectFailure(await RunAsync(args), 2);
    }

    [Fact]
    public async Task Approving_a_prefix_the_node_does_not_advertise_exits_1()
    {
        await Server.RegisterAsync("alice", "router", ["10.1.0.0/24"]);
        Assert.Contains("does not advertise 10.2.0.0/24", ExpectFailure(await RunAsync("routes", "approve", "router", "10.2.0.0/24"), 1));
    }
}
