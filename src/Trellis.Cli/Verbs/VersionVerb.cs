using System.CommandLine;
using System.Reflection;

namespace Trellis.Cli.Verbs;

/// <summary>`trellis version`: the release and the commit it was built from (also `trellis --version`).</summary>
internal static class VersionVerb
{
    public static Command Build()
    {
        var command = new Command("version", "Print Trellis's version and the commit it was built from.");
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.WriteLine($"trellis {Text}");
            return CommandLine.Success;
        });
        return command;
    }

    public static string Text { get; } =
        typeof(VersionVerb).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
