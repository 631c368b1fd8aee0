using System.Net;

namespace Trellis.Control.Store;

/// <summary>
/// A configuration rule: routes inside <paramref name="Prefix"/> advertised by a node owned by one
/// of <paramref name="Approvers"/> (user names or "tag:name") are approved without an admin.
/// </summary>
public sealed record AutoApprovalRule(IPNetwork Prefix, IReadOnlyList<string> Approvers)
{
    /// <summary>The advertised routes some rule covers for a node with this owner.</summary>
    public static List<string> Approvable(
        IEnumerable<string> advertised, string? userName, IReadOnlyCollection<string> tags, IReadOnlyList<AutoApprovalRule> rules)
    {
        var approvable = new List<string>();
        foreach (var text in advertised)
        {
            if (!IPNetwork.TryParse(text, out var route))
            {
                continue;
            }

            foreach (var rule in rules)
            {
                if (RoutePrefixes.Covers(rule.Prefix, route) && rule.Allows(userName, tags))
                {
                    approvable.Add(text);
                    break;
                }
            }
        }

        return approvable;
    }

    private bool Allows(string? userName, IReadOnlyCollection<string> tags)
    {
        foreach (var approver in Approvers)
        {
            if ((userName is not null && string.Equals(approver, userName, StringComparison.OrdinalIgnoreCase))
                || tags.Contains(approver, StringComparer.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
