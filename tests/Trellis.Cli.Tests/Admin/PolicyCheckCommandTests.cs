using System.CommandLine;
using Trellis.Cli.Verbs.Admin;

namespace Trellis.Cli.Tests.Admin;

/// <summary>`trellis policy check FILE`, run through a small root command as the lead will mount it under `policy`.</summary>
public sealed class PolicyCheckCommandTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-policy-check-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void A_valid_policy_reports_its_rules_and_passed_tests()
    {
        var file = Write("""
            {
              "groups": { "group:eng": ["alice@"] },
              "tagOwners": { "tag:server": ["group:eng"] },
              "acls": [
                { "action": "accept", "src": ["group:eng"], "dst": ["tag:server:22,443"] },
                { "action": "accept", "src": ["*"], "dst": ["autogroup:self:*"] },
              ],
              "tests": [
                { "src": "alice@", "accept": ["tag:server:22"], "deny": ["tag:server:80"] },
              ],
            }
            """);

        var (code, output, error) = Run(file);

        Assert.Equal(CommandLine.Success, code);
        Assert.Equal("policy OK: 2 rules, 1 tests passed", output.Trim());
        Assert.Empty(error);
    }

    [Fact]
    public void An_empty_acls_list_passes_with_a_loud_warning()
    {
        var (code, output, error) = Run(Write("""{ "acls": [] }"""));

        Assert.Equal(CommandLine.Success, code);
        Assert.Equal("policy OK: 0 rules, 0 tests passed", output.Trim());
        Assert.Contains("WARNING: this policy denies everything", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_syntax_error_names_the_file_line_and_column_and_fails()
    {
        var (code, output, error) = Run(Write("{\n  \"acls\": [\n    { \"action\": \"accept\", }\n  ],\n  \"hosts\": {\n}"));

        Assert.Equal(CommandLine.Failure, code);
        Assert.Empty(output);
        Assert.StartsWith("trellis policy check: policy.hujson: line 6, column 2: not valid HuJSON: ", error, StringComparison.Ordinal);
        Assert.Contains("should be closed", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rule_without_sources_names_its_line_and_column()
    {
        var (code, _, error) = Run(Write("{\n  \"acls\": [\n    { \"action\": \"accept\", \"dst\": [\"*:*\"] },\n  ],\n}"));

        Assert.Equal(CommandLine.Failure, code);
        Assert.StartsWith("trellis policy check: policy.hujson: line 3, column 5: acls[0] has no \"src\"", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failing_test_names_the_test_and_fails()
    {
        var file = Write("""
            {
              "acls": [{ "action": "accept", "src": ["alice@"], "dst": ["bob@:22"] }],
              "tests": [{ "src": "bob@", "accept": ["alice@:22"] }],
            }
            """);

        var (code, _, error) = Run(file);

        Assert.Equal(CommandLine.Failure, code);
        Assert.Contains("line 3, column 41: test 0 (src bob@) fails: bob@ cannot reach alice@:22", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_10_MB_file_is_refused_by_its_size()
    {
        var file = Path.Combine(_directory, "huge.hujson");
        using (var stream = File.Create(file))
        {
            stream.SetLength(10 * 1024 * 1024);
        }

        var (code, _, error) = Run(file);

        Assert.Equal(CommandLine.Failure, code);
        Assert.Contains("the policy is 10485760 bytes, over the limit of 1048576 bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_a_failure_naming_it()
    {
        var missing = Path.Combine(_directory, "missing.hujson");

        var (code, _, error) = Run(missing);

        Assert.Equal(CommandLine.Failure, code);
        Assert.Contains($"cannot read {missing}", error, StringComparison.Ordinal);
    }

    private string Write(string text)
    {
        var file = Path.Combine(_directory, "policy.hujson");
        File.WriteAllText(file, text);
        return file;
    }

    private static (int Code, string Output, string Error) Run(string file)
    {
        var root = new RootCommand { new Command("policy") { PolicyCheckCommand.Build() } };
        var output = new StringWriter();
        var error = new StringWriter();
        var code = root.Parse(["policy", "check", file]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}
