using System.CommandLine;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>
/// `trellis set`: changes the settings it names and nothing else, whether the node is up or down
/// (a running node applies them at once). Without flags it prints the current settings.
/// </summary>
internal static class SetVerb
{
    public static Command Build()
    {
        var flags = new SettingFlags();
        var command = new Command("set", "Change one or more settings of this node and keep the rest (e.g. trellis set --accept-routes); without flags, print them.");
        foreach (var option in flags.All(withHostname: false))
        {
            command.Options.Add(option);
        }

        command.SetNodeAction(NodeAction.SocketOption(), "set", async run =>
        {
            var settings = flags.Given(run.Parse);
            var prefs = SettingFlags.AnyGiven(settings)
                ? await run.Client.SetAsync(new SetRequest { Settings = settings }, run.CancellationToken).ConfigureAwait(false)
                : await run.Client.PrefsAsync(run.CancellationToken).ConfigureAwait(false);
            var current = SettingFlags.NonDefault(prefs);
            run.Output.WriteLine(current.Count == 0
                ? "trellis set: every setting has its default"
                : $"trellis set: settings: {string.Join(' ', current)}");
            return CommandLine.Success;
        });
        return command;
    }
}
