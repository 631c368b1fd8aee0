using System.CommandLine;
using System.Globalization;
using Trellis.Control.Admin;
using Trellis.Core.Build;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>`trellis nodes list|delete|expire|rename|approve|tag|add-wireguard|wireguard-config|gateway`. NODE is an id or a name.</summary>
internal static class NodesVerb
{
    public static Command Build()
    {
        var options = new AdminOptions();
        var nodes = new Command("nodes", "Manage the devices of the network.");
        options.AddTo(nodes);
        nodes.Subcommands.Add(List(options));
        nodes.Subcommands.Add(Delete(options));
        nodes.Subcommands.Add(Expire(options));
        nodes.Subcommands.Add(Rename(options));
        nodes.Subcommands.Add(Approve(options));
        nodes.Subcommands.Add(Tag(options));
        nodes.Subcommands.Add(PlainPeerCommands.AddWireGuard(options));
        nodes.Subcommands.Add(PlainPeerCommands.WireGuardConfig(options));
        nodes.Subcommands.Add(PlainPeerCommands.Gateway(options));
        return nodes;
    }

    private static Argument<string> NodeArgument() => new("NODE") { Description = "The node's id or name." };

    private static Command List(AdminOptions options)
    {
        var user = new Option<string?>("--user") { Description = "Only this user's nodes." };
        var command = new Command("list", "List nodes.") { user };
        command.SetAdminAction(options, "nodes list", async run =>
        {
            var path = run.Parse.GetValue(user) is { } owner ? $"api/v1/nodes?user={Uri.EscapeDataString(owner)}" : "api/v1/nodes";
            var nodes = await run.Client.GetAsync(path, AdminJsonContext.Default.IReadOnlyListNodeDto, run.CancellationToken).ConfigureAwait(false);
            if (run.Json)
            {
                run.Output.WriteLine(nodes.Json);
                return;
            }

            var table = new TextTable("ID", "NAME", "OWNER", "IPV4", "IPV6", "STATUS", "ONLINE", "LAST SEEN", "KEY EXPIRY", "VERSION");
            foreach (var node in nodes.Value)
            {
                table.Add(
                    node.Id.ToString(CultureInfo.InvariantCulture), node.Name, AdminText.Owner(node.User, node.Tags), node.IPv4 ?? AdminText.None, node.IPv6 ?? AdminText.None,
                    node.Expired ? "expired" : node.Status, Online(node), AdminText.Time(node.LastSeen), AdminText.Time(node.KeyExpiry),
                    node.Gateway is null ? NodeVersion.Display(node.Version) : AdminText.None);
            }

            table.WriteTo(run.Output);
        });
        return command;
    }

    /// <summary>A plain WireGuard peer is online as its handshakes show, and reachable only while its gateway is.</summary>
    private static string Online(NodeDto node) => node switch
    {
        { GatewayName: { } gateway, GatewayOnline: false } => $"{AdminText.YesNo(node.Online)} (gateway {gateway} offline)",
        { GatewayName: { } gateway } => $"{AdminText.YesNo(node.Online)} (via {gateway})",
        _ => AdminText.YesNo(node.Online),
    };

    private static Command Delete(AdminOptions options)
    {
        var node = NodeArgument();
        var command = new Command("delete", "Delete a node; its peers drop it at once.") { node };
        command.SetAdminAction(options, "nodes delete", async run =>
        {
            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            await run.Client.DeleteAsync($"api/v1/nodes/{id}", run.CancellationToken).ConfigureAwait(false);
            if (!run.Json)
            {
                run.Output.WriteLine($"deleted node {id}");
            }
        });
        return command;
    }

    private static Command Expire(AdminOptions options)
    {
        var node = NodeArgument();
        var command = new Command("expire", "Expire a node's key now: it leaves the network until it registers again with a new node key (and an auth key, or your approval).") { node };
        command.SetAdminAction(options, "nodes expire", async run =>
        {
            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var expired = await run.Client.PostAsync($"api/v1/nodes/{id}/expire", AdminJsonContext.Default.NodeDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json
                ? expired.Json
                : $"expired node {expired.Value.Name} (id {id}); it is out of the network until it registers again with a new node key and an auth key, or you approve it (trellis nodes approve {id})");
        });
        return command;
    }

    private static Command Rename(AdminOptions options)
    {
        var node = NodeArgument();
        var name = new Argument<string>("NAME") { Description = "The new name: a DNS label no other node has." };
        var command = new Command("rename", "Rename a node.") { node, name };
        command.SetAdminAction(options, "nodes rename", async run =>
        {
            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var renamed = await run.Client.PostAsync(
                $"api/v1/nodes/{id}/rename", new RenameNodeRequest { Name = run.Parse.GetRequiredValue(name) },
                AdminJsonContext.Default.RenameNodeRequest, AdminJsonContext.Default.NodeDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json ? renamed.Json : $"renamed node {id} to {renamed.Value.Name}");
        });
        return command;
    }

    private static Command Approve(AdminOptions options)
    {
        var node = NodeArgument();
        var user = new Option<string?>("--user") { Description = "The user who will own the node." };
        var tags = new Option<string[]>("--tags") { Description = "Tags that will own the node instead (comma-separated or repeated)." };
        var command = new Command("approve", "Let a pending node into the network (a node that had an owner keeps it unless told otherwise).") { node, user, tags };
        command.SetAdminAction(options, "nodes approve", async run =>
        {
            var owner = run.Parse.GetValue(user);
            var tagList = AdminText.Tags(run.Parse.GetValue(tags));
            if (owner is not null && tagList is not null)
            {
                throw AdminCommandException.Usage("give --user or --tags, not both: a node is owned by a user or by tags");
            }

            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var approved = await run.Client.PostAsync(
                $"api/v1/nodes/{id}/approve", new ApproveNodeRequest { User = owner, Tags = tagList },
                AdminJsonContext.Default.ApproveNodeRequest, AdminJsonContext.Default.NodeDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json
                ? approved.Json
                : $"approved node {approved.Value.Name} (id {id}) for {AdminText.Owner(approved.Value.User, approved.Value.Tags)}");
        });
        return command;
    }

    private static Command Tag(AdminOptions options)
    {
        var node = NodeArgument();
        var tags = new Argument<string[]>("TAG") { Description = "The tags that will own the node, e.g. tag:server (replacing its user or its former tags).", Arity = ArgumentArity.OneOrMore };
        var command = new Command("tag", "Put tags on a node: they own it from now on, as the access policy's tagOwners allow.") { node, tags };
        command.SetAdminAction(options, "nodes tag", async run =>
        {
            var tagList = AdminText.Tags(run.Parse.GetValue(tags)) ?? throw AdminCommandException.Usage("give at least one tag, e.g. tag:server");
            if (!Trellis.Control.Store.DnsNames.TryNormalizeTags(tagList, out _, out var invalid))
            {
                throw AdminCommandException.Usage(invalid);
            }

            var id = await NodeReference.ResolveAsync(run, run.Parse.GetRequiredValue(node)).ConfigureAwait(false);
            var tagged = await run.Client.PostAsync(
                $"api/v1/nodes/{id}/tags", new SetNodeTagsRequest { Tags = tagList },
                AdminJsonContext.Default.SetNodeTagsRequest, AdminJsonContext.Default.NodeDto, run.CancellationToken).ConfigureAwait(false);
            run.Output.WriteLine(run.Json
                ? tagged.Json
                : $"node {tagged.Value.Name} (id {id}) is now owned by {AdminText.List(tagged.Value.Tags)}");
        });
        return command;
    }
}
