using Trellis.Lab.Tests.Node;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Sso;

/// <summary>The identity provider's groups are the policy's groups: they grant what it says, and stop granting once the provider takes them away.</summary>
public sealed class SsoGroupPolicyTests(ITestOutputHelper output)
{
    // A safety net only: the mesh converges in seconds on an idle machine.
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(90);

    // Nobody is listed in a group: membership comes from the provider's groups claim alone.
    private const string Policy = """
        {
          "groups": { "group:eng": [], "group:ops": [] },
          "acls": [
            { "action": "accept", "src": ["group:eng"], "dst": ["group:ops:*"] },
          ],
        }
        """;

    [Fact]
    public async Task A_group_claim_grants_access_and_losing_the_group_at_the_next_sign_in_ends_it()
    {
        await using var sso = await SsoLab.StartAsync(output, directory =>
        {
            var path = Path.Combine(directory, "policy.hujson");
            File.WriteAllText(path, Policy);
            return $"policy-file: {path}";
        });
        var laptop = await sso.Mesh.AddNodeAsync("laptop");
        var server = await sso.Mesh.AddNodeAsync("server");

        await SignInAsync(sso, laptop, "alice"); // eng
        await SignInAsync(sso, server, "bob"); // ops
        await PeersAreAsync(laptop, "server");
        await PeersAreAsync(server, "laptop");
        var serverAddress = (await server.AddressesAsync())[0];
        await Poll.UntilAsync(_ => laptop.PingAsync(serverAddress), MeshTimeout, "alice's laptop (group:eng) to ping bob's server (group:ops)");

        // The provider takes alice out of eng; her next sign-in, from a new device, ends her laptop's access too.
        sso.SetGroups("alice", "sales");
        var phone = await sso.Mesh.AddNodeAsync("phone");
        await SignInAsync(sso, phone, "alice");
        await PeersAreAsync(laptop);
        await PeersAreAsync(server);
        Assert.False(await laptop.PingAsync(serverAddress), "alice's laptop may no longer reach bob's server");
    }

    private static async Task SignInAsync(SsoLab sso, LabNode node, string login)
    {
        var (up, link) = await sso.UpForLinkAsync(node);
        var page = await sso.SignInAsync(link, login);
        Assert.Equal(200, page.Status);
        Assert.Equal(0, await up.WaitForExitAsync(MeshLab.StartTimeout));
    }

    private static Task PeersAreAsync(LabNode node, params string[] expected) =>
        Poll.UntilAsync(
            async _ => (await node.StatusAsync()).GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("hostname").GetString()!).Order().SequenceEqual(expected),
            MeshTimeout,
            $"{node.Name}'s peers to be exactly [{string.Join(", ", expected)}]");
}
