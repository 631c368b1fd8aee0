using System.CommandLine;

namespace Trellis.Cli.Verbs.Node;

/// <summary>`trellis down` and `trellis logout`.</summary>
internal static class DownVerb
{
    public static Command BuildDown()
    {
        var command = new Command("down", "Disconnect from the network and take the tunnels down (the node stays registered; `up` resumes).");
        command.SetNodeAction(NodeAction.SocketOption(), "down", async run =>
        {
            await run.Client.DownAsync(run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine("trellis down: disconnected; tunnels are down");
            return CommandLine.Success;
        });
        return command;
    }

    public static Command BuildLogout()
    {
        var command = new Command("logout", "Log this node out of the network and forget its node key (`up` with an auth key joins again).");
        command.SetNodeAction(NodeAction.SocketOption(), "logout", async run =>
        {
            await run.Client.LogoutAsync(run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine("trellis logout: logged out; the node key was replaced");
            return CommandLine.Success;
        });
        return command;
    }
}
