using System.Globalization;
using Trellis.Control.Admin;
using Trellis.Control.Store;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>NODE on the command line: a node id, or a node name looked up in the server's list.</summary>
internal static class NodeReference
{
    /// <summary>
    /// All digits is an id (a node whose name is all digits is named by its id); a DNS label is a
    /// name; anything else is a usage error.
    /// </summary>
    public static async Task<long> ResolveAsync(AdminInvocation invocation, string text)
    {
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0)
        {
            return id;
        }

        var name = text.ToLowerInvariant();
        if (!DnsNames.IsValidLabel(name))
        {
            throw AdminCommandException.Usage($"'{text}' is neither a node id nor a node name");
        }

        var nodes = await invocation.Client.GetAsync("api/v1/nodes", AdminJsonContext.Default.IReadOnlyListNodeDto, invocation.CancellationToken).ConfigureAwait(false);
        return nodes.Value.FirstOrDefault(n => n.Name == name)?.Id
            ?? throw new AdminCommandException($"no node named '{name}'");
    }
}
