namespace Trellis.Control.Store;

// Subnet routes: what nodes advertise, what admins and rules approve.
public sealed partial class ControlStore
{
    /// <summary>Replaces what the node advertises, then applies the configured auto-approval rules.</summary>
    public Task<StoreResult<Node>> SetAdvertisedRoutesAsync(long nodeId, IReadOnlyList<string> routes, CancellationToken cancellationToken = default)
    {
        if (!RoutePrefixes.TryNormalize(routes, out var normalized, out var error))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(error));
        }

        return UpdateNodeAsync(nodeId, node =>
        {
            node.AdvertisedRoutes = normalized;
            ApplyAutoApprovals(node, _options.AutoApprovers);
            return null;
        }, cancellationToken);
    }

    /// <summary>Approves prefixes the node advertises; a prefix it does not advertise is an error.</summary>
    public Task<StoreResult<Node>> ApproveRoutesAsync(long nodeId, IReadOnlyList<string> prefixes, CancellationToken cancellationToken = default)
    {
        if (!RoutePrefixes.TryNormalize(prefixes, out var normalized, out var error))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(error));
        }

        return UpdateNodeAsync(nodeId, node =>
        {
            var notAdvertised = normalized.Where(p => !node.AdvertisedRoutes.Contains(p, StringComparer.Ordinal)).ToList();
            if (notAdvertised.Count > 0)
            {
                return StoreFailure.Invalid($"node {node.Name} does not advertise {string.Join(", ", notAdvertised)}");
            }

            node.ApprovedRoutes = Union(node.ApprovedRoutes, normalized);
            return null;
        }, cancellationToken);
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

    /// <summary>Adds what the rules allow to the approved routes; pending nodes have no owner to judge yet.</summary>
    private static void ApplyAutoApprovals(Node node, IReadOnlyList<AutoApprovalRule> rules)
    {
        if (rules.Count == 0 || node.Status != NodeStatus.Active)
        {
            return;
        }

        var approvable = AutoApprovalRule.Approvable(node.AdvertisedRoutes, node.User?.Name, node.Tags, rules);
        if (approvable.Any(r => !node.ApprovedRoutes.Contains(r, StringComparer.Ordinal)))
        {
            node.ApprovedRoutes = Union(node.ApprovedRoutes, approvable);
        }
    }

    private static List<string> Union(IEnumerable<string> a, IEnumerable<string> b) =>
        [.. a.Union(b, StringComparer.Ordinal).Order(StringComparer.Ordinal)];
}
