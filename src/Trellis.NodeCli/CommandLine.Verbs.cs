using System.CommandLine;
using Trellis.Cli.Verbs;

namespace Trellis.Cli;

/// <summary>
/// The verbs of `trellis-node`: the daemon, the verbs that talk to it, and the ones a node's owner
/// needs beside them (netcheck, keys, and `wireguard` for a plain wg-quick-style device). The server, relay and admin verbs stay in `trellis`, which needs Trellis.Control.
/// </summary>
public static partial class CommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Trellis node: the daemon of a Trellis mesh VPN and the verbs that talk to it (the server and admin verbs are in `trellis`).");
        root.Subcommands.Add(Verbs.Node.DaemonVerb.Build());
        root.Subcommands.Add(Verbs.Node.UpVerb.Build());
        root.Subcommands.Add(Verbs.Node.SetVerb.Build());
        root.Subcommands.Add(Verbs.Node.DownVerb.BuildDown());
        root.Subcommands.Add(Verbs.Node.DownVerb.BuildLogout());
        root.Subcommands.Add(Verbs.Node.StatusVerb.Build());
        root.Subcommands.Add(Verbs.Node.PingVerb.Build());
        root.Subcommands.Add(NetcheckVerb.Build());
        root.Subcommands.Add(WireGuardVerb.Build());
        root.Subcommands.Add(KeysVerb.BuildGenKey());
        root.Subcommands.Add(KeysVerb.BuildPubKey());
        root.Subcommands.Add(VersionVerb.Build());
        VersionVerb.ReplaceRootOption(root);
        return root;
    }
}
