using System.CommandLine;
using Trellis.Control.Policy;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>
/// `trellis policy check FILE`: validates a policy offline and runs its tests, with no server involved,
/// so a policy can be checked in CI before anyone sets it.
/// </summary>
public static class PolicyCheckCommand
{
    private const string Name = "trellis policy check";

    public static Command Build()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The policy file (HuJSON, Tailscale's format)." };
        var command = new Command("check", "Validate a policy file and run its tests, offline.") { file };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetRequiredValue(file);
            try
            {
                var policy = new HuJsonPolicyCompiler().CompilePolicy(Read(path));
                foreach (var warning in policy.Warnings)
                {
                    error.WriteLine($"{Name}: WARNING: {warning}");
                }

                output.WriteLine($"policy OK: {policy.RuleCount} rules, {policy.TestCount} tests passed");
                return CommandLine.Success;
            }
            catch (PolicyException e)
            {
                error.WriteLine($"{Name}: {path.Name}: {e.Message}");
            }
            catch (IOException e)
            {
                error.WriteLine($"{Name}: cannot read {path.FullName}: {e.Message}");
            }
            catch (UnauthorizedAccessException e)
            {
                error.WriteLine($"{Name}: cannot read {path.FullName}: {e.Message}");
            }

            return CommandLine.Failure;
        });
        return command;
    }

    /// <summary>The size is checked before the file is read, so a huge file costs nothing.</summary>
    private static string Read(FileInfo path)
    {
        if (!path.Exists)
        {
            throw new FileNotFoundException("no such file", path.FullName);
        }

        if (path.Length > PolicyLimits.MaxPolicyBytes)
        {
            throw new PolicyException(PolicyLimits.TooLarge(path.Length));
        }

        return File.ReadAllText(path.FullName);
    }
}
