using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

// Subnet routes: what nodes advertise, what admins and rules approve. None may overlap the overlay
// prefixes: a route inside or around them would take traffic meant for nodes.
public sealed partial class ControlStore
{
    /// <summary>Replaces what the node advertises, then applies the configured auto-approval rules.</summary>
    public async Task<StoreResult<Node>> SetAdvertisedRoutesAsync(long nodeId, IReadOnlyList<string> routes, CancellationToken cancellationToken = default)
    {
        if (!RoutePrefixes.TryNormalize(routes, out var normalized, out var error))
        {
            return StoreFailure.Invalid(error);
        }

        if (await RouteOverlayConflictAsync(normalized, cancellationToken).ConfigureAwait(false) is { } conflict)
        {
            return StoreFailure.Invalid(conflict);
        }

        return await UpdateNodeAsync(nodeId, node =>
        {
            node.AdvertisedRoutes = normalized;
            ApplyAutoApprovals(node, _options.AutoApprovers);
            return null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Approves prefixes the node advertises; a prefix it does not advertise is an error, and so is
    /// one overlapping the overlay prefixes (even when an older server stored such an advertisement).
    /// </summary>
    public async Task<StoreResult<Node>> ApproveRoutesAsync(long nodeId, IReadOnlyList<string> prefixes, CancellationToken cancellationToken = default)
    {
        if (!RoutePrefixes.TryNormalize(prefixes, out var normalized, out var error))
        {
            return StoreFailure.Invalid(error);
        }

        if (await RouteOverlayConflictAsync(normalized, cancellationToken).ConfigureAwait(false) is { } conflict)
        {
            return StoreFailure.Invalid(conflict);
        }

        return await UpdateNodeAsync(nodeId, node =>
        {
            var notAdvertised = normalized.Where(p => !node.AdvertisedRoutes.Contains(p, StringComparer.Ordinal)).ToList();
            if (notAdvertised.Count > 0)
            {
                return StoreFailure.Invalid($"node {node.Name} does not advertise {string.Join(", ", notAdvertised)}");
            }

            node.ApprovedRoutes = Union(node.ApprovedRoutes, normalized);
            return null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Withdraws approval of the prefixes (approved or not, advertised or not).</summary>
    public Task<StoreResult<Node>> RejectRoutesAsync(long nodeId, IReadOnlyList<string> prefixes, CancellationToken cancellationToken = default)
    {
        if (!RoutePrefixes.TryNormalize(prefixes, out var normalized, out var error))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(error));
        }

        return UpdateNodeAsync(nodeId, node =>
        {
            node.ApprovedRoutes = node.ApprovedRoutes.Where(r => !normalized.Contains(r, StringComparer.Ordinal)).ToList();
            return null;
        }, cancellationToken);
    }

    /// <summary>Approves the node's advertised routes that <paramref name="rules"/> cover for its owner.</summary>
    public Task<StoreResult<Node>> AutoApproveRoutesAsync(long nodeId, IReadOnlyList<AutoApprovalRule> rules, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rules);
        return UpdateNodeAsync(nodeId, node =>
        {
            ApplyAutoApprovals(node, rules);
            return null;
        }, cancellationToken);
    }

    /// <summary>
    /// The deployment's overlay prefixes (the IPv4 range and the ULA /48), which no subnet route may
    /// overlap; the ULA is read once and cached.
    /// </summary>
    public async Task<IReadOnlyList<IPNetwork>> OverlayPrefixesAsync(CancellationToken cancellationToken = default) =>
        [_options.IPv4Range, await GetUlaPrefixAsync(cancellationToken).ConfigureAwait(false)];

    /// <summary>Why one of these canonical routes may not be a subnet route, or null when all may.</summary>
    private async Task<string?> RouteOverlayConflictAsync(IReadOnlyList<string> routes, CancellationToken cancellationToken) =>
        routes.Count == 0 ? null : RoutePrefixes.OverlayConflict(routes, await OverlayPrefixesAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// Adds what the configured rules and the access policy's autoApprovers allow to the approved
    /// routes; pending nodes have no owner to judge yet, and an advertisement overlapping the overlay
    /// (stored before it was refused) is never approved.
    /// </summary>
    private void ApplyAutoApprovals(Node node, IReadOnlyList<AutoApprovalRule> rules)
    {
        var policy = _accessPolicy;
        if ((rules.Count == 0 && policy.AllowsAll) || node.Status != NodeStatus.Active || !node.HasAddresses)
        {
            return;
        }

        var waiting = node.AdvertisedRoutes.Where(r => !node.ApprovedRoutes.Contains(r, StringComparer.Ordinal)).ToList();
        if (waiting.Count == 0)
        {
            return;
        }

        IPNetwork[] overlays = _ulaPrefix is { } ula ? [_options.IPv4Range, ula.Value] : [_options.IPv4Range];
        var approvable = AutoApprovalRule.Approvable(waiting, node.User?.Name, node.Tags, rules);
        if (!policy.AllowsAll)
        {
            var asPolicyNode = node.ToPolicyNode();
            approvable.AddRange(waiting.Where(r => IPNetwork.TryParse(r, out var route) && policy.AutoApprovesRoute(asPolicyNode, route)));
        }

        approvable = approvable.Where(r => RoutePrefixes.OverlayConflict([r], overlays) is null).ToList();
        if (approvable.Count > 0)
        {
            node.ApprovedRoutes = Union(node.ApprovedRoutes, approvable);
        }
    }

    /// <summary>
    /// Applies the auto-approval rules and the policy's autoApprovers to every active node with an
    /// advertised route still waiting (after a policy change); returns the nodes that gained routes.
    /// </summary>
    public async Task<IReadOnlyList<Node>> ReapplyAutoApprovalsAsync(CancellationToken cancellationToken = default)
    {
        List<long> candidates;
        await using (var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false))
        {
            // Lists are stored as JSON text, so the "still waiting" test runs here, not in SQL.
            candidates = (await db.Nodes.AsNoTracking()
                    .Where(n => n.Status == NodeStatus.Active)
                    .Select(n => new { n.Id, n.AdvertisedRoutes, n.ApprovedRoutes })
                    .ToListAsync(cancellationToken).ConfigureAwait(false))
                .Where(n => n.AdvertisedRoutes.Except(n.ApprovedRoutes, StringComparer.Ordinal).Any())
                .Select(n => n.Id)
                .ToList();
        }

        var changed = new List<Node>();
        foreach (var id in candidates)
        {
            var before = 0;
            var updated = await UpdateNodeAsync(id, node =>
            {
                before = node.ApprovedRoutes.Count;
                ApplyAutoApprovals(node, _options.AutoApprovers);
                return null;
            }, cancellationToken).ConfigureAwait(false);
            if (updated.Succeeded && updated.Value.ApprovedRoutes.Count != before)
            {
                changed.Add(updated.Value);
            }
        }

        return changed;
    }

    private static List<string> Union(IEnumerable<string> a, IEnumerable<string> b) =>
        [.. a.Union(b, StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}
