using Trellis.Control.Policy;

namespace Trellis.Cli.Tests.Admin;

public sealed class PolicyCliTests : AdminCliTestBase, IDisposable
{
    private const string Policy = """
        // only servers, and nobody reaches them yet
        {
          "tagOwners": {"tag:server": []},
          "acls": [],
        }
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-policy-cli-").FullName;

    private protected override IPolicyCompiler? Compiler { get; } = new JsonPolicyCompiler();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string FileWith(string text, string name = "policy.hujson")
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task A_policy_set_from_a_file_is_in_force_and_get_prints_it_exactly()
    {
        var path = FileWith(Policy);

        Assert.Equal($"access policy set from {path}: 0 rules, in force on every node now\n", await OkAsync("policy", "set", path));

        Assert.False(Server.Service.Mesh.Policy.AllowsAll);
        Assert.Equal(Policy + "\n", await OkAsync("policy", "get"));
        var json = await JsonAsync(Json.PolicyDto, "policy", "get");
        Assert.Equal("database", json.Source);
        Assert.StartsWith("API key ", json.UpdatedBy, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refused_policy_says_where_and_the_previous_one_stays()
    {
        await OkAsync("policy", "set", FileWith(Policy));

        var error = ExpectFailure(await RunAsync("policy", "set", FileWith("{\n  \"acls\": [\n}", "bad.hujson")), 1);

        Assert.StartsWith("trellis policy set: policy refused, the previous one stays in force: line 3, column", error, StringComparison.Ordinal);
        Assert.Equal(Policy + "\n", await OkAsync("policy", "get"));
    }

    [Fact]
    public async Task Get_without_a_policy_and_set_of_a_missing_file_say_what_to_do()
    {
        var none = ExpectFailure(await RunAsync("policy", "get"), 1);
        Assert.Contains("every node can reach every other", none, StringComparison.Ordinal);
        Assert.Contains("trellis policy set FILE", none, StringComparison.Ordinal);

        var missing = ExpectFailure(await RunAsync("policy", "set", Path.Combine(_dir, "nope.hujson")), 1);
        Assert.Contains("cannot read", missing, StringComparison.Ordinal);
        Assert.Contains("nope.hujson", missing, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Removing_the_policy_opens_the_network_again()
    {
        await OkAsync("policy", "set", FileWith(Policy));

        Assert.Equal("access policy removed: every node can reach every other\n", await OkAsync("policy", "remove"));

        Assert.True(Server.Service.Mesh.Policy.AllowsAll);
    }

    [Fact]
    public async Task A_node_is_tagged_only_with_tags_the_policy_owns()
    {
        var web = await Server.RegisterAsync("alice", "web");
        await OkAsync("policy", "set", FileWith(Policy));

        var refused = ExpectFailure(await RunAsync("nodes", "tag", "web", "tag:db"), 1);
        Assert.Contains("tag:db", refused, StringComparison.Ordinal);
        Assert.Contains("tagOwners", refused, StringComparison.Ordinal);

        Assert.Equal($"node web (id {web.Id}) is now owned by tag:server\n", await OkAsync("nodes", "tag", "web", "server"));
        Assert.Equal(["tag:server"], (await Server.Store.GetNodeByIdAsync(web.Id))!.Tags);
        ExpectFailure(await RunAsync("nodes", "tag", "web", "tag:Not_A_Label"), 2);
    }
}
