using System.Net;
using System.Web;
using Trellis.Lab.Tests.Node;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Sso;

/// <summary>
/// `trellis up` without an auth key on a server with single sign-on, end to end: the printed link,
/// a real OpenID provider, a real browser, and the node registered to the person who signed in.
/// </summary>
public sealed class SsoRegistrationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_person_signs_in_in_a_browser_and_the_node_joins_as_them()
    {
        await using var sso = await SsoLab.StartAsync(output);
        var laptop = await sso.Mesh.AddNodeAsync("laptop");

        var (up, link) = await sso.UpForLinkAsync(laptop);
        var page = await sso.SignInAsync(link, "alice");
        Assert.Equal(200, page.Status);
        Assert.Contains("registered to alice", page.Text, StringComparison.Ordinal);

        // trellis up, still waiting, sees the node let in and says so.
        Assert.Equal(0, await up.WaitForExitAsync(MeshLab.StartTimeout));
        Assert.Contains("connected to", up.Output, StringComparison.Ordinal);
        var self = (await laptop.StatusAsync()).GetProperty("self");
        Assert.Equal("alice", self.GetProperty("user").GetString());
        Assert.NotEmpty(self.GetProperty("addresses").EnumerateArray());

        // The provider's answer counts once: the same callback again finds no sign-in in progress.
        var replayed = await sso.FetchAsync(page.Callback!);
        Assert.Equal(400, replayed.Status);
        Assert.Contains("belongs to no sign-in in progress", replayed.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Altered_state_a_replayed_code_and_a_person_outside_the_domain_are_refused()
    {
        await using var sso = await SsoLab.StartAsync(output);
        var laptop = await sso.Mesh.AddNodeAsync("laptop");
        var desk = await sso.Mesh.AddNodeAsync("desk");

        // A code alice's sign-in already spent.
        var (laptopUp, laptopLink) = await sso.UpForLinkAsync(laptop);
        var spent = HttpUtility.ParseQueryString(new Uri((await sso.SignInAsync(laptopLink, "alice")).Callback!).Query)["code"]!;
        await laptopUp.WaitForExitAsync(MeshLab.StartTimeout);

        var (deskUp, deskLink) = await sso.UpForLinkAsync(desk);
        var toProvider = await sso.FetchAsync(deskLink);
        Assert.Equal(302, toProvider.Status);
        var request = HttpUtility.ParseQueryString(new Uri(toProvider.Location!).Query);
        Assert.Equal("S256", request["code_challenge_method"]);
        var state = request["state"]!;
        var callback = $"{sso.Mesh.ServerUrl}/oidc/callback";

        var altered = await sso.FetchAsync($"{callback}?state={Uri.EscapeDataString(Altered(state))}&code={Uri.EscapeDataString(spent)}");
        Assert.Equal(400, altered.Status);
        Assert.Contains("belongs to no sign-in in progress", altered.Body, StringComparison.Ordinal);

        // The right state with a code redeemed before: the provider will not redeem it again.
        var replayed = await sso.FetchAsync($"{callback}?state={Uri.EscapeDataString(state)}&code={Uri.EscapeDataString(spent)}");
        Assert.Equal(403, replayed.Status);
        Assert.Contains("refused to redeem", replayed.Body, StringComparison.Ordinal);

        // carol signs in fine at the provider, but her domain is not one the server admits.
        var refused = await sso.SignInAsync(deskLink, "carol");
        Assert.Equal(403, refused.Status);
        Assert.Contains("carol@elsewhere.test is not in a domain this server admits", refused.Text, StringComparison.Ordinal);
        Assert.Equal("pending", (await desk.StatusAsync()).GetProperty("state").GetString());
        Assert.False(deskUp.HasExited, "trellis up should still wait for a sign-in");
        var users = await sso.Mesh.AdminAsync("users", "list");
        Assert.DoesNotContain("carol", users.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_person_renews_their_nodes_key_by_signing_in_again_and_the_node_stays_in_the_mesh()
    {
        // Ten days: inside the window in which a node warns that its key expires.
        await using var sso = await SsoLab.StartAsync(output, nodeKeyExpiry: "10d");
        var laptop = await sso.Mesh.AddNodeAsync("laptop");
        var desk = await sso.Mesh.AddNodeAsync("desk");
        await desk.UpAsync();
        var (up, link) = await sso.UpForLinkAsync(laptop);
        Assert.Contains("registered to alice", (await sso.SignInAsync(link, "alice")).Text, StringComparison.Ordinal);
        Assert.Equal(0, await up.WaitForExitAsync(MeshLab.StartTimeout));

        var status = await laptop.RunAsync("status");
        Assert.Contains("warning: this node's key expires ", status.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("renew it before then with: trellis up --force-reauth", status.StandardOutput, StringComparison.Ordinal);
        var before = KeyExpiry(await laptop.StatusAsync());
        var deskAddress = (await desk.AddressesAsync())[0];
        await Poll.UntilAsync(_ => laptop.PingAsync(deskAddress), MeshLab.StartTimeout, "laptop reaching desk");

        // The renewal link: the node stays connected and its key valid while alice signs in. Pings run
        // across asking for the link and across the sign-in (each awaited, so a late reply on busy cores
        // is not a lost one); every one comes back.
        var asking = PingDeskAsync();
        var (renew, renewLink) = await sso.UpForLinkAsync(laptop, "--force-reauth");
        Assert.Contains("to renew this node's key (it expires ", renew.Output, StringComparison.Ordinal);
        Assert.Contains("/oidc/start/", (await laptop.StatusAsync()).GetProperty("renewUrl").GetString(), StringComparison.Ordinal);
        var signingIn = PingDeskAsync();
        var page = await sso.SignInAsync(renewLink, "alice");
        Assert.Equal(200, page.Status);
        Assert.Contains("is renewed: it now expires", page.Text, StringComparison.Ordinal);
        Assert.Equal(0, await renew.WaitForExitAsync(MeshLab.StartTimeout));
        Assert.Contains("trellis up: renewed; this node's key now expires ", renew.Output, StringComparison.Ordinal);
        var after = await laptop.StatusAsync();
        Assert.True(KeyExpiry(after) > before, $"the key expiry should move on from {before:O}: {after}");
        Assert.Equal("running", after.GetProperty("state").GetString());
        foreach (var pings in new[] { await asking, await signingIn })
        {
            Assert.True(pings.AllReceived, $"every ping across the renewal should be answered: {pings}");
        }

        // bob signing in at alice's node's renewal link changes nothing.
        var (stolen, stolenLink) = await sso.UpForLinkAsync(laptop, "--force-reauth");
        var refused = await sso.SignInAsync(stolenLink, "bob");
        Assert.Equal(409, refused.Status);
        Assert.Contains("belongs to alice; only they can renew its key", refused.Text, StringComparison.Ordinal);
        await stolen.StopAsync();
        Assert.Equal(KeyExpiry(after), KeyExpiry(await laptop.StatusAsync()));

        // 20 pings in 10 s: within ping's deadline for awaiting each reply.
        Task<PingResult> PingDeskAsync() =>
            Pinger.PingAsync(laptop.Host.Namespace, IPAddress.Parse(deskAddress), count: 20, intervalSeconds: 0.5, waitForEach: true);
    }

    private static DateTimeOffset KeyExpiry(System.Text.Json.JsonElement status) =>
        status.GetProperty("self").GetProperty("keyExpiry").GetDateTimeOffset();

    private static string Altered(string state) => (state[0] == 'A' ? 'B' : 'A') + state[1..];
}
