using System.CommandLine;
using Trellis.Cli.Verbs;

namespace Trellis.Cli;

/// <summary>The verbs of `trellis`: everything, the server and admin verbs included.</summary>
public static partial class CommandLine
{
    public static RootCommand Build()
    {
        var root = new RootCommand("Trellis: a self-hosted mesh VPN (WireGuard data plane in userspace).");
        root.Subcommands.Add(WireGuardVerb.Build());
        root.Subcommands.Add(ServerVerb.Build());
        root.Subcommands.Add(Verbs.Admin.UsersVerb.Build());
        root.Subcommands.Add(Verbs.Admin.AuthKeysVerb.Build());
        root.Subcommands.Add(Verbs.Admin.NodesVerb.Build());
        root.Subcommands.Add(Verbs.Admin.RoutesVerb.Build());
        root.Subcommands.Add(Verbs.Admin.ApiKeysVerb.Build());
        root.Subcommands.Add(Verbs.Admin.PolicyVerb.Build());
        root.Subcommands.Add(KeysVerb.BuildGenKey());
        root.Subcommands.Add(KeysVerb.BuildPubKey());
        root.Subcommands.Add(NetcheckVerb.Build());
        root.Subcommands.Add(StunVerb.Build());
        root.Subcommands.Add(RelayVerb.Build());
        root.Subcommands.Add(Verbs.Node.DaemonVerb.Build());
        root.Subcommands.Add(Verbs.Node.UpVerb.Build());
        root.Subcommands.Add(Verbs.Node.SetVerb.Build());
        root.Subcommands.Add(Verbs.Node.DownVerb.BuildDown());
        root.Subcommands.Add(Verbs.Node.DownVerb.BuildLogout());
        root.Subcommands.Add(Verbs.Node.StatusVerb.Build());
        root.Subcommands.Add(Verbs.Node.PingVerb.Build());
        root.Subcommands.Add(DemoVerb.Build());
        root.Subcommands.Add(VersionVerb.Build());
        VersionVerb.ReplaceRootOption(root);
        return root;
    }
}
