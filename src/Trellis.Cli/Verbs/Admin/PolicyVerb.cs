using System.CommandLine;
using System.Globalization;
using Trellis.Control.AccessControl;
using Trellis.Control.Admin;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis policy set FILE|get|remove|check FILE`: the access policy kept in the server's database, and an offline check.</summary>
internal static class PolicyVerb
{
    public static Command Build()
    {
        var options = new AdminOptions();
        var policy = new Command("policy", "Manage the access policy: which nodes may reach which (HuJSON, Tailscale's format).");
        options.AddTo(policy);
        policy.Subcommands.Add(Set(options));
        policy.Subcommands.Add(Get(options));
        policy.Subcommands.Add(Remove(options));
        policy.Subcommands.Add(PolicyCheckCommand.Build());
        return policy;
    }

    private static Command Set(AdminOptions options)
    {
        var file = new Argument<string>("FILE") { Description = "The policy file (HuJSON)." };
        var command = new Command("set", "Replace the access policy; the server compiles it first and keeps the old one if it is refused.") { file };
        command.SetAdminAction(options, "policy set", async run =>
        {
            var path = run.Parse.GetRequiredValue(file);
            var text = await ReadPolicyFileAsync(path, run.CancellationToken).ConfigureAwait(false);
            var set = await run.Client.PutTextAsync("api/v1/policy", text, AdminJsonContext.Default.PolicyDto, run.CancellationToken).ConfigureAwait(false);
            var rules = set.Value.Rules is { } n ? n.ToString(CultureInfo.InvariantCulture) : "an unknown number of";
            run.Output.WriteLine(run.Json ? set.Json : $"access policy set from {path}: {rules} rules, in force on every node now");
        });
        return command;
    }

    private static Command Get(AdminOptions options)
    {
        var command = new Command("get", "Print the access policy in force, exactly as it was set (redirect it to a file to edit it).");
        command.SetAdminAction(options, "policy get", async run =>
        {
            var policy = await run.Client.GetAsync("api/v1/policy", AdminJsonContext.Default.PolicyDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(policy.Json);
                return;
            }

            run.Output.Write(policy.Value.Policy);
            if (!policy.Value.Policy.EndsWith('\n'))
            {
                run.Output.WriteLine();
            }
        });
        return command;
    }

    private static Command Remove(AdminOptions options)
    {
        var command = new Command("remove", "Remove the access policy: every node can reach every other again.");
        command.SetAdminAction(options, "policy remove", async run =>
        {
            await run.Client.DeleteAsync("api/v1/policy", run.CancellationToken).ConfigureAwait(false);
            if (!run.Json)
            {
                run.Output.WriteLine("access policy removed: every node can reach every other");
            }
        });
        return command;
    }

    private static async Task<string> ReadPolicyFileAsync(string path, CancellationToken ct)
    {
        try
        {
            var length = new FileInfo(path).Length;
            if (length > PolicyService.MaxPolicyBytes)
            {
                throw new AdminCommandException($"{path} holds {length} bytes, more than the {PolicyService.MaxPolicyBytes} a policy may have");
            }

            return await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new AdminCommandException($"cannot read {path}: {e.Message}");
        }
    }
}
