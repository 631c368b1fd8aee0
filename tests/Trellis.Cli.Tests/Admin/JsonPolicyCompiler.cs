using System.Net;
using System.Text.Json;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Cli.Tests.Admin;

/// <summary>
/// A stand-in for the policy compiler: any JSON with comments compiles to a policy that isolates
/// every node and lets an admin apply only the tags listed under "tagOwners"; anything else is
/// refused with its line and column.
/// </summary>
internal sealed class JsonPolicyCompiler : IPolicyCompiler
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public IAccessPolicy Compile(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, Options);
            var tags = document.RootElement.TryGetProperty("tagOwners", out var owners)
                ? owners.EnumerateObject().Select(o => o.Name).ToHashSet(StringComparer.Ordinal)
                : [];
            var rules = document.RootElement.TryGetProperty("acls", out var acls) && acls.ValueKind == JsonValueKind.Array ? acls.GetArrayLength() : 0;
            return new IsolatingPolicy(tags, rules);
        }
        catch (JsonException e)
        {
            throw new PolicyException("not valid HuJSON", (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
    }

    private sealed class IsolatingPolicy(IReadOnlySet<string> ownedTags, int rules) : IAccessPolicy
    {
        public bool AllowsAll => false;

        public int? RuleCount => rules;

        public IReadOnlySet<long> VisiblePeers(PolicyNode node, PolicyNodeSet nodes) => new HashSet<long>();

        public IReadOnlySet<long> NodesReaching(PolicyNode node, PolicyNodeSet nodes) => new HashSet<long>();

        public PacketFilter InboundFilter(PolicyNode node, PolicyNodeSet nodes) => PacketFilter.DenyAll;

        public bool MayApplyTag(string? user, string tag) => ownedTags.Contains(tag);

        public bool AutoApprovesRoute(PolicyNode node, IPNetwork route) => false;
    }
}
