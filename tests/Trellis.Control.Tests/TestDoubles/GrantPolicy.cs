using System.Net;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.TestDoubles;

/// <summary>
/// A stand-in for the compiled policy: "source may reach destination" grants between owners
/// ("alice", "tag:server", "*"), tagOwners and route autoApprovers, with the semantics the contract
/// states (a node sees the peers it may reach and those that may reach it; its filter lets in the
/// addresses of those that may reach it). Counts what it was asked, so tests can see work done.
/// </summary>
internal sealed class GrantPolicy : IAccessPolicy
{
    private readonly IReadOnlyList<(string From, string To)> _grants;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<string>> _tagOwners;
    private readonly IReadOnlyList<(IPNetwork Prefix, string Approver)> _routeApprovers;
    private int _visibleCalls;
    private int _filterCalls;

    public GrantPolicy(
        IEnumerable<(string From, string To)> grants,
        IReadOnlyDictionary<string, IReadOnlyList<string>>? tagOwners = null,
        IEnumerable<(IPNetwork Prefix, string Approver)>? routeApprovers = null)
    {
        _grants = [.. grants];
        _tagOwners = tagOwners ?? new Dictionary<string, IReadOnlyList<string>>();
        _routeApprovers = [.. routeApprovers ?? []];
    }

    public static GrantPolicy Of(params (string From, string To)[] grants) => new(grants);

    public int Rules => _grants.Count;

    public int? RuleCount => Rules;

    public int VisibleCalls => Volatile.Read(ref _visibleCalls);

    public int FilterCalls => Volatile.Read(ref _filterCalls);

    public bool AllowsAll => false;

    public IReadOnlySet<long> VisiblePeers(PolicyNode node, PolicyNodeSet nodes)
    {
        Interlocked.Increment(ref _visibleCalls);
        return nodes.All.Where(n => n.Id != node.Id && (Reaches(node, n) || Reaches(n, node))).Select(n => n.Id).ToHashSet();
    }

    public IReadOnlySet<long> NodesReaching(PolicyNode node, PolicyNodeSet nodes) =>
        nodes.All.Where(n => n.Id != node.Id && Reaches(n, node)).Select(n => n.Id).ToHashSet();

    public PacketFilter InboundFilter(PolicyNode node, PolicyNodeSet nodes)
    {
        Interlocked.Increment(ref _filterCalls);
        var sources = nodes.All.Where(n => n.Id != node.Id && Reaches(n, node)).OrderBy(n => n.Id).Select(n => $"{n.IPv4}/32").ToList();
        return sources.Count == 0
            ? PacketFilter.DenyAll
            : new PacketFilter { Rules = [new FilterRule { Sources = sources, Destinations = [new FilterDestination { Prefix = $"{node.IPv4}/32" }] }] };
    }

    public bool MayApplyTag(string? user, string tag) =>
        _tagOwners.TryGetValue(tag, out var owners) && (user is null || owners.Contains(user, StringComparer.Ordinal));

    public bool AutoApprovesRoute(PolicyNode node, IPNetwork route) =>
        _routeApprovers.Any(a => Covers(a.Prefix, route) && Names(a.Approver, node));

    private bool Reaches(PolicyNode from, PolicyNode to) => _grants.Any(g => Names(g.From, from) && Names(g.To, to));

    private static bool Names(string target, PolicyNode node) =>
        target == "*" || (node.IsTagged ? node.Tags.Contains(target, StringComparer.Ordinal) : node.User == target);

    private static bool Covers(IPNetwork outer, IPNetwork inner) =>
        outer.BaseAddress.AddressFamily == inner.BaseAddress.AddressFamily && outer.PrefixLength <= inner.PrefixLength && outer.Contains(inner.BaseAddress);
}
