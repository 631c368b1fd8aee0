using System.CommandLine;
using Trellis.Cli.Verbs;

namespace Trellis.Cli;

/// <summary>The verbs of the one `trellis` executable. Exit codes: 0 success, 1 failure, 2 usage error.</summary>
public static class CommandLine
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

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

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var root = Build();
        var parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
        };
        if (parse.Errors.Count > 0)
        {
            UsageErrors.Write(parse, args, config.Error);
            return UsageError;
        }

        return parse.Invoke(config);
    }
}
