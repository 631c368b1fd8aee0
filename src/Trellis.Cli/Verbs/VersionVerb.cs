using System.CommandLine;
using System.CommandLine.Invocation;
using Trellis.Core.Build;

namespace Trellis.Cli.Verbs;

/// <summary>`trellis version` and `trellis --version`: the release, the commit it was built from and the runtime.</summary>
internal static class VersionVerb
{
    public static Command Build()
    {
        var command = new Command("version", "Print Trellis's version, the commit it was built from and the runtime.");
        command.SetAction(parse =>
        {
            Write(parse.InvocationConfiguration.Output);
            return CommandLine.Success;
        });
        return command;
    }

    /// <summary>Makes the root's `--version` print the same as the verb, not the bare assembly version.</summary>
    public static void ReplaceRootOption(RootCommand root)
    {
        foreach (var option in root.Options.OfType<VersionOption>())
        {
            option.Action = new PrintAction();
        }
    }

    private static void Write(TextWriter output)
    {
        output.WriteLine($"trellis {BuildInfo.Version}");
        output.WriteLine($"commit  {BuildInfo.Commit}");
        output.WriteLine($"runtime {BuildInfo.Runtime}");
    }

    private sealed class PrintAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            Write(parseResult.InvocationConfiguration.Output);
            return CommandLine.Success;
        }
    }
}
