namespace Trellis.Control.Policy;

/// <summary>
/// The nodes whose view a policy change can touch. Over the same nodes, a node's peers and filter come
/// only from the rules that name it (as a source or a destination), so when one compiled policy
/// replaces another, only the nodes named by a rule that differs (in the old text or the new) need
/// their views recomputed; an edit of one rule in 200 costs the nodes it names, not the whole mesh.
/// Conservative by construction: rules are compared by position, so an inserted rule marks every
/// later one as changed, and a prefix or "*" names everyone.
/// </summary>
public sealed class PolicyChangeScope
{
    private readonly RuleIndex _changed;

    private PolicyChangeScope(RuleIndex changed) => _changed = changed;

    /// <summary>What can change from <paramref name="previous"/> to <paramref name="next"/>; null when every view must be recomputed.</summary>
    public static PolicyChangeScope? Between(IAccessPolicy previous, IAccessPolicy next)
    {
        ArgumentNullException.ThrowIfNull(previous);
        ArgumentNullException.ThrowIfNull(next);
        if (previous is not CompiledPolicy before || next is not CompiledPolicy after)
        {
            return null; // to or from allow-all or deny-all: every view changes
        }

        var changed = new List<CompiledRule>();
        for (var i = 0; i < Math.Max(before.Rules.Count, after.Rules.Count); i++)
        {
            var old = i < before.Rules.Count ? before.Rules[i] : null;
            var now = i < after.Rules.Count ? after.Rules[i] : null;
            if (old is not null && now is not null && RuleEquality.Same(old, now))
            {
                continue;
            }

            if (old is not null)
            {
                changed.Add(old);
            }

            if (now is not null)
            {
                changed.Add(now);
            }
        }

        return new PolicyChangeScope(new RuleIndex(changed));
    }

    /// <summary>Whether a changed rule may name this node, so its peers or its filter may differ.</summary>
    public bool Concerns(PolicyNode node)
    {
        ArgumentNullException.ThrowIfNull(node);
        return _changed.DestinationsFor(node).Count > 0 || _changed.RulesFrom(node).Count > 0;
    }
}
