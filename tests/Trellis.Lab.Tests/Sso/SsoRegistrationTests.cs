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

    private static string Altered(string state) => (state[0] == 'A' ? 'B' : 'A') + state[1..];
}
