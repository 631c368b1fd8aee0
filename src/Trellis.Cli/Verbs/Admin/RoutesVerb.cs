using System.CommandLine;
using System.Globalization;
using Trellis.Control.Admin;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis routes list|approve|reject`: subnet routes reach peers only once approved.</summary>
internal static class RoutesVerb
{
    public static Command Build()
    {
        var options = new AdminOptions();
        var routes = new Command("routes", "Review and approve the subnet routes nodes advertise.");
        options.AddTo(routes);
        routes.Subcommands.Add(List(options));
        routes.Subcommands.Add(Change(options, "approve", "Approve prefixes a node advertises, so its peers route them through it."));
        routes.Subcommands.Add(Change(options, "reject", "Withdraw approval of prefixes."));
        return routes;
    }

    private static Command List(AdminOptions options)
    {
        var command = new Command("list", "List every node's advertised and approved routes.");
        command.SetAdminAction(options, "routes list", async run =>
        {
            var routes = await run.Client.GetAsync("api/v1/routes", AdminJsonContext.Default.IReadOnlyListNodeRoutesDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(routes.Json);
                return;
            }

            Write(routes.Value, run.Output);
        });
        return command;
    }

    private static Command Change(AdminOptions options, string verb, string description)
    {
        var node = new Argument<string>("NODE") { Description = "The node's id or name." };
        var prefixes = new Argument<string[]>("PREFIX") { Description = "CIDR prefixes, e.g. 10.0.0.0/24 fd00::/64.", Arity = ArgumentArity.OneOrMore };
        var command = new Command(verb, description) { node, prefixes };
        command.SetAdminAction(options, $"routes {verb}", async run =>
        {
            var request = new RoutePrefixesRequest { Prefixes = AdminArguments.RoutePrefixList(run.Parse.GetRequiredValue(prefixes)) };
            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var changed = await run.Client.PostAsync(
                $"api/v1/nodes/{id}/routes/{verb}", request,
                AdminJsonContext.Default.RoutePrefixesRequest, AdminJsonContext.Default.NodeRoutesDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(changed.Json);
                return;
            }

            Write([changed.Value], run.Output);
        });
        return command;
    }

    /// <summary>One row per node and prefix: what it advertises, what is approved, and so what peers use.</summary>
    private static void Write(IEnumerable<NodeRoutesDto> nodes, TextWriter output)
    {
        var table = new TextTable("ID", "NODE", "PREFIX", "ADVERTISED", "APPROVED", "SERVED");
        foreach (var node in nodes)
        {
            foreach (var prefix in node.Advertised.Union(node.Approved, StringComparer.Ordinal))
            {
                table.Add(
                    node.NodeId.ToString(CultureInfo.InvariantCulture), node.Node, prefix,
                    AdminText.YesNo(node.Advertised.Contains(prefix, StringComparer.Ordinal)),
                    AdminText.YesNo(node.Approved.Contains(prefix, StringComparer.Ordinal)),
                    AdminText.YesNo(node.Served.Contains(prefix, StringComparer.Ordinal)));
            }
        }

        table.WriteTo(output);
    }
}
