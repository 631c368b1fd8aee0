using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.AccessControl;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Policy;
using Trellis.Control.Store;
using Trellis.Control.Tests.Admin;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Server;

/// <summary>
/// The policy at start-up (none, from the database, from a file) and the file reloaded when it changes;
/// each time a policy comes into force the log says how many rules it has and where it came from.
/// </summary>
public sealed class PolicyFileTests : IAsyncLifetime
{
    // Short, so a change the file watcher missed is still picked up well within the wait's safety net.
    private static readonly TimeSpan TestCheckInterval = TimeSpan.FromSeconds(2);

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-policy-").FullName;
    private readonly RecordingLogger<PolicyService> _log = new();
    private ControlService _service = null!;

    private string PolicyPath => Path.Combine(_dir, "policy.hujson");

    public async Task InitializeAsync()
    {
        var contexts = TrellisDbContextFactory.SqliteFile(Path.Combine(_dir, "trellis.db"));
        await contexts.MigrateAsync();
        var store = new ControlStore(contexts, new FakeTimeProvider(DateTimeOffset.UtcNow));
        await store.InitializeAsync();
        _service = new ControlService(store, new MeshState(() => new RelayMap(), ["100.64.0.0/10"]), TimeProvider.System, NullLogger<ControlService>.Instance);
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private PolicyService NewPolicy(string? file) => new(_service, new GrantPolicyCompiler(), file, _log);

    /// <summary>Replaces the file in one step, as editors and configuration tools do.</summary>
    private void WritePolicyFile(string text)
    {
        var temporary = PolicyPath + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, PolicyPath, overwrite: true);
    }

    [Fact]
    public async Task Without_a_policy_start_up_warns_that_every_node_can_reach_every_other()
    {
        await NewPolicy(null).LoadAsync(CancellationToken.None);

        var (level, message, _) = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.StartsWith("no access policy: every node can reach every other", message, StringComparison.Ordinal);
        Assert.True(_service.Mesh.Policy.AllowsAll);
    }

    [Fact]
    public async Task A_stored_policy_is_in_force_after_a_restart_and_start_up_says_how_many_rules_and_from_where()
    {
        await _service.Store.SetPolicyAsync(GrantPolicyCompiler.Text(("alice", "bob"), ("bob", "alice")), "API key abcd1234");

        await NewPolicy(null).LoadAsync(CancellationToken.None);

        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Information
            && e.Message.StartsWith("access policy in force at start-up: 2 rule(s), from the database (set by API key abcd1234", StringComparison.Ordinal));
        Assert.IsType<GrantPolicy>(_service.Mesh.Policy);
    }

    [Fact]
    public async Task A_changed_file_is_reloaded_and_a_bad_one_is_logged_with_its_position_while_the_old_policy_stays()
    {
        WritePolicyFile(GrantPolicyCompiler.Text(("alice", "bob")));
        var policy = NewPolicy(PolicyPath);
        await policy.LoadAsync(CancellationToken.None);
        Assert.Contains(_log.Entries, e => e.Message == $"access policy in force at start-up: 1 rule(s), from the file {PolicyPath}");
        using var watcher = new PolicyFileWatcher(policy, NullLogger<PolicyFileWatcher>.Instance, TestCheckInterval);
        await watcher.StartAsync(CancellationToken.None);
        try
        {
            var changed = GrantPolicyCompiler.Text(("alice", "bob"), ("carol", "bob"));
            WritePolicyFile(changed);
            await _log.WaitForAsync((level, m) => level == LogLevel.Information
                && m == $"access policy in force after the policy file changed: 2 rule(s), from the file {PolicyPath}");
            var reloaded = _service.Mesh.Policy;
            Assert.Equal(2, Assert.IsType<GrantPolicy>(reloaded).Rules);

            WritePolicyFile("{\n  \"acls\": [],\n  \"hostz\": {}\n}");
            var refused = await _log.WaitForAsync((level, m) => level == LogLevel.Error && m.Contains("hostz", StringComparison.Ordinal));
            Assert.Contains("line 3, column 3", refused, StringComparison.Ordinal);
            Assert.Contains("previous policy stays in force", refused, StringComparison.Ordinal);
            Assert.Same(reloaded, _service.Mesh.Policy);
            Assert.Equal(changed, policy.Current.Text);
        }
        finally
        {
            await watcher.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_policy_set_through_the_api_is_logged_with_its_rule_count_and_that_it_lives_in_the_database()
    {
        var policy = NewPolicy(null);
        await policy.LoadAsync(CancellationToken.None);

        await policy.SetAsync(GrantPolicyCompiler.Text(("alice", "bob"), ("bob", "alice"), ("carol", "bob")), "API key abcd1234", CancellationToken.None);

        var (level, message, _) = _log.Entries[^1];
        Assert.Equal(LogLevel.Information, level);
        Assert.StartsWith("access policy in force after a change through the admin API: 3 rule(s), from the database (set by API key abcd1234 at ", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_policy_of_no_rules_is_a_warning_that_no_node_can_reach_another()
    {
        WritePolicyFile("{\"acls\": []}");

        await NewPolicy(PolicyPath).LoadAsync(CancellationToken.None);

        var (level, message, _) = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Equal($"access policy in force at start-up: 0 rules, from the file {PolicyPath}; it grants nothing, so no node can reach another until a rule is added", message);
    }

    [Fact]
    public async Task The_rule_count_logged_is_that_of_the_compiled_policy_whatever_the_texts_format()
    {
        // A compiler of another language than JSON: the count comes from what it compiled, not from re-reading the text.
        var policy = new PolicyService(_service, new ArrowPolicyCompiler(), null, _log);
        await policy.LoadAsync(CancellationToken.None);

        var inForce = await policy.SetAsync("alice -> bob\nbob -> alice\n", "API key abcd1234", CancellationToken.None);

        Assert.Equal(2, inForce.Rules);
        Assert.StartsWith("access policy in force after a change through the admin API: 2 rule(s), from the database", _log.Entries[^1].Message, StringComparison.Ordinal);
    }

    /// <summary>One "from -> to" grant per line.</summary>
    private sealed class ArrowPolicyCompiler : IPolicyCompiler
    {
        public IAccessPolicy Compile(string text) => new GrantPolicy(text
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split("->", StringSplitOptions.TrimEntries))
            .Select(parts => (parts[0], parts[1])));
    }

    [Fact]
    public async Task A_policy_file_missing_at_start_up_is_logged_as_cutting_every_node_off_not_as_keeping_a_previous_policy()
    {
        await NewPolicy(PolicyPath).LoadAsync(CancellationToken.None);

        var (level, message, _) = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Error, level);
        Assert.StartsWith($"the access policy from the file {PolicyPath} was refused (", message, StringComparison.Ordinal);
        Assert.EndsWith("until it is fixed no node can reach another", message, StringComparison.Ordinal);
        Assert.Same(DenyAllPolicy.Instance, _service.Mesh.Policy);
    }

    [Fact]
    public async Task A_policy_file_refused_at_start_up_cuts_every_node_off_rather_than_opening_everything()
    {
        WritePolicyFile("{\"acls\": [], \"groupz\": {}}");

        await NewPolicy(PolicyPath).LoadAsync(CancellationToken.None);

        var (level, message, _) = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Error, level);
        Assert.Contains("groupz", message, StringComparison.Ordinal);
        Assert.Contains("no node can reach another", message, StringComparison.Ordinal);
        Assert.Same(DenyAllPolicy.Instance, _service.Mesh.Policy);
    }

    [Fact]
    public async Task With_a_policy_file_the_api_refuses_to_set_a_policy_and_names_the_file()
    {
        WritePolicyFile(GrantPolicyCompiler.Text(("alice", "bob")));
        await using var server = await AdminTestServer.StartAsync(compiler: new GrantPolicyCompiler(), policyFile: PolicyPath);
        using var api = server.Client();

        using var response = await api.PutAsync("/api/v1/policy", new StringContent("{\"acls\": []}"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains(PolicyPath, body, StringComparison.Ordinal);
        Assert.Contains("edit that file", body, StringComparison.Ordinal);
        var current = await api.GetStringAsync("/api/v1/policy");
        Assert.Contains("\"source\":\"file\"", current, StringComparison.Ordinal);
    }
}
