using System.Text.Json;
using Trellis.Lab.Tests.Node;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Sso;

/// <summary>
/// The web console in a real browser against a real identity provider: an admin approves a route
/// and the peers receive it, creates an auth key that registers a node and revokes another (which
/// then registers nothing), edits the policy (a broken one refused with its position, one whose
/// tests fail refused with the failing test, the old one kept; then a valid one); a change without
/// the CSRF token is refused; a member sees only their own devices and is refused admin calls; an
/// admin signed in with an API key, by keyboard alone, sees a node go offline on the open page when
/// its daemon is killed. One scenario, one server: the screenshots of the pages (docs/console) are
/// taken on the way.
/// </summary>
public sealed class ConsoleTests(ITestOutputHelper output)
{
    // A safety net only: the mesh converges in seconds on an idle machine.
    private static readonly TimeSpan MeshTimeout = TimeSpan.FromSeconds(90);

    private const string Lan = "192.168.78.0/24";

    private const string FirstPolicy = """
        // every node may reach every other
        { "acls": [ { "action": "accept", "src": ["*"], "dst": ["*:*"] } ] }
        """;

    // A comma missing after "accept".
    private const string BrokenPolicy = """
        {
          "acls": [
            { "action": "accept" "src": ["*"], "dst": ["*:*"] },
          ],
        }
        """;

    // Well formed, but its test says alice may not reach the LAN, which its rule allows.
    private const string FailingTestPolicy = """
        {
          "acls": [
            { "action": "accept", "src": ["*"], "dst": ["*:*"] },
          ],
          "tests": [
            { "src": "alice@", "deny": ["192.168.78.1:22"] },
          ],
        }
        """;

    private const string NewPolicy = """
        {
          "hosts": { "office-lan": "192.168.78.0/24" },
          "acls": [
            { "action": "accept", "src": ["*"], "dst": ["*:*"] },
          ],
          "tests": [
            { "src": "alice@", "accept": ["192.168.78.1:22"] },
          ],
        }
        """;

    [Fact]
    public async Task An_admin_runs_the_mesh_from_the_console_and_a_member_sees_only_their_devices()
    {
        await using var sso = await SsoLab.StartAsync(output);
        var work = Directory.CreateTempSubdirectory("trellis-console-").FullName;
        try
        {
            await RunAsync(sso, work);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private async Task RunAsync(SsoLab sso, string work)
    {
        var mesh = sso.Mesh;
        var shots = Environment.GetEnvironmentVariable("TRELLIS_CONSOLE_SCREENSHOTS") is { Length: > 0 } keep ? keep : Path.Combine(work, "shots");
        Directory.CreateDirectory(shots);
        await File.WriteAllTextAsync(Path.Combine(work, "first.hujson"), FirstPolicy);
        await File.WriteAllTextAsync(Path.Combine(work, "broken.hujson"), BrokenPolicy);
        await File.WriteAllTextAsync(Path.Combine(work, "failing.hujson"), FailingTestPolicy);
        await File.WriteAllTextAsync(Path.Combine(work, "new.hujson"), NewPolicy);
        await mesh.AdminAsync("policy", "set", Path.Combine(work, "first.hujson"));

        var router = await mesh.AddNodeAsync("router");
        var client = await mesh.AddNodeAsync("client");
        await router.UpAsync("--advertise-routes", Lan);
        await client.UpAsync("--accept-routes");
        var bobs = await mesh.AddNodeAsync("bobs-laptop");
        var (up, link) = await sso.UpForLinkAsync(bobs);
        Assert.Equal(200, (await sso.SignInAsync(link, "bob")).Status);
        Assert.Equal(0, await up.WaitForExitAsync(MeshLab.StartTimeout));
        await Poll.UntilAsync(async _ => PeerNames(await client.StatusAsync()).Contains("router"), MeshTimeout, "the client to see the router");
        Assert.DoesNotContain(Lan, await AllowedIpsAsync(client, "router"));

        // The admin approves the advertised route in the console; the client receives it.
        var admin = Path.Combine(work, "admin-profile");
        var routes = await sso.ConsoleAsync("admin-routes", admin, shots, "alice", "router", Lan, "alice");
        Assert.True(routes.GetProperty("approvedShown").GetBoolean());
        await Poll.UntilAsync(async _ => (await AllowedIpsAsync(client, "router")).Contains(Lan), MeshTimeout, $"the client to receive the router's approved {Lan}");

        // The key the console showed once registers a node for alice.
        var key = routes.GetProperty("key").GetString()!;
        Assert.StartsWith("trellis-auth-", key, StringComparison.Ordinal);
        var fresh = await mesh.AddNodeAsync("fresh");
        await fresh.UpWithKeyAsync(key);
        var nodes = JsonDocument.Parse((await mesh.AdminAsync("nodes", "list", "--json")).StandardOutput).RootElement;
        Assert.Contains(nodes.EnumerateArray(), n => n.GetProperty("name").GetString() == "fresh" && n.GetProperty("user").GetString() == "alice");

        // The key revoked in the console registers nothing.
        Assert.Equal("revoked", routes.GetProperty("revokedState").GetString());
        var refused = await mesh.AddNodeAsync("refused");
        var refusedUp = await refused.RunAsync("up", "--server", mesh.ServerUrl, "--authkey", routes.GetProperty("revokedKey").GetString()!, "--hostname", "refused");
        Assert.NotEqual(0, refusedUp.ExitCode);
        Assert.DoesNotContain("\"refused\"", (await mesh.AdminAsync("nodes", "list", "--json")).StandardOutput, StringComparison.Ordinal);

        // The same browser, still signed in: the new node, the users, the policy; a forged change; sign-out.
        var policy = await sso.ConsoleAsync(
            "admin-policy", admin, shots, "alice", "fresh", Path.Combine(work, "broken.hujson"), Path.Combine(work, "failing.hujson"), Path.Combine(work, "new.hujson"));
        Assert.Equal(["bobs-laptop", "client", "fresh", "router"], Strings(policy, "machines").Order());
        Assert.Contains("alice", Strings(policy, "users"));
        Assert.Contains("bob", Strings(policy, "users"));
        var refusal = policy.GetProperty("badMessage").GetString()!;
        Assert.Contains("the previous one stays in force", refusal, StringComparison.Ordinal);
        Assert.Matches(@"line 3, column \d+", refusal);
        var failing = policy.GetProperty("failingMessage").GetString()!;
        Assert.Contains("the previous one stays in force", failing, StringComparison.Ordinal);
        Assert.Contains("test 0 (src alice@) fails: alice@ can reach 192.168.78.1:22", failing, StringComparison.Ordinal);
        Assert.Equal(FirstPolicy, policy.GetProperty("policyAfterRefusals").GetString());
        Assert.StartsWith("Saved", policy.GetProperty("goodMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(NewPolicy, (await mesh.AdminAsync("policy", "get")).StandardOutput.TrimEnd('\n'));
        Assert.Equal(403, policy.GetProperty("withoutCsrf").GetInt32());
        Assert.Equal(401, policy.GetProperty("afterSignOut").GetInt32());
        Assert.DoesNotContain("mallory", (await mesh.AdminAsync("users", "list")).StandardOutput, StringComparison.Ordinal);

        // bob, a member, sees his own device only and may not act as an admin, in the page or through the API.
        var member = await sso.ConsoleAsync("member", Path.Combine(work, "member-profile"), shots, "bob");
        Assert.Equal(["bobs-laptop"], Strings(member, "machines"));
        Assert.Equal("Your devices", member.GetProperty("heading").GetString());
        Assert.Equal(0, member.GetProperty("adminLinksShown").GetInt32());
        Assert.Equal(403, member.GetProperty("listUsers").GetInt32());
        Assert.Equal(403, member.GetProperty("createKey").GetInt32());

        // An admin signs in with an API key and watches the client go offline when its daemon dies: no reload.
        var apiKey = (await mesh.AdminAsync("apikeys", "create")).StandardOutput.Trim();
        var watching = sso.StartConsole("api-key", Path.Combine(work, "key-profile"), shots, apiKey, "client");
        await Poll.UntilAsync(() => watching.Output.Contains("watching", StringComparison.Ordinal) || watching.HasExited, MeshTimeout, "the console to show the client online");
        Assert.False(watching.HasExited, $"the console step ended early: {watching.Output}");
        await client.Daemon.StopAsync(UnixSignal.Kill);
        var keyed = await SsoLab.ConsoleResult(watching);
        Assert.True(keyed.GetProperty("keyFieldByTab").GetBoolean());
        Assert.StartsWith("API key ", keyed.GetProperty("who").GetString(), StringComparison.Ordinal);
        Assert.False(keyed.GetProperty("keyInPage").GetBoolean());
        Assert.True(keyed.GetProperty("offlineShown").GetBoolean());
        Assert.True(keyed.GetProperty("notReloaded").GetBoolean());
        Assert.Equal(["client"], Strings(keyed, "searched"));
        Assert.Equal(1, keyed.GetProperty("apiKeys").GetInt32());
        Assert.Equal("SQLite", keyed.GetProperty("server").GetProperty("Database").GetString());
        Assert.False(keyed.GetProperty("phoneOverflow").GetBoolean());

        foreach (var name in new[] { "routes.png", "machines.png", "keys.png", "users.png", "policy.png", "member.png", "apikeys.png", "server.png", "phone.png" })
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(shots, name));
            Assert.True(bytes.AsSpan().StartsWith((byte[])[0x89, (byte)'P', (byte)'N', (byte)'G']), $"{name} is a PNG");
        }
    }

    private static string[] PeerNames(JsonElement status) =>
        [.. status.GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("hostname").GetString()!)];

    private static async Task<string[]> AllowedIpsAsync(LabNode node, string peer) =>
        [.. (await node.PeerAsync(peer)).GetProperty("allowedIps").EnumerateArray().Select(a => a.GetString()!)];

    private static string[] Strings(JsonElement result, string property) =>
        [.. result.GetProperty(property).EnumerateArray().Select(e => e.GetString()!)];
}
