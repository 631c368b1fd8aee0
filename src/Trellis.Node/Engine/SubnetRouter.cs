using System.Net.Sockets;

namespace Trellis.Node.Engine;

/// <summary>
/// The OS side of being a subnet router: IP forwarding and the masquerade table. Forwarding is turned
/// on per family only when a prefix of that family is routed (turning on IPv6 forwarding makes Linux
/// ignore router advertisements by default, which can cost a host its own IPv6 default route), and put
/// back only if this class is what turned it on. Not thread-safe: the engine calls it under its gate.
/// </summary>
internal sealed class SubnetRouter(IOsNetworkConfig os, string table)
{
    private bool _changedIPv4;
    private bool _changedIPv6;
    private IReadOnlyList<MasqueradeRule>? _masquerade;

    /// <summary>Makes forwarding and masquerading match <paramref name="plan"/> (null: not a router).</summary>
    public void Apply(SubnetRouterPlan? plan, List<Exception> failures)
    {
        Forward(AddressFamily.InterNetwork, plan?.ForwardIPv4 == true, ref _changedIPv4, failures);
        Forward(AddressFamily.InterNetworkV6, plan?.ForwardIPv6 == true, ref _changedIPv6, failures);
        var rules = plan?.Masquerade ?? [];
        OsChange.Try(failures, () =>
        {
            if (rules.Count == 0)
            {
                if (_masquerade is not null)
                {
                    os.RemoveMasquerade(table);
                    _masquerade = null;
                }
            }
            else if (_masquerade is null || !_masquerade.SequenceEqual(rules))
            {
                os.SetMasquerade(table, rules);
                _masquerade = rules;
            }
        });
    }

    /// <summary>Removes the table and restores forwarding (on shutdown).</summary>
    public void Withdraw(List<Exception> failures) => Apply(null, failures);

    private void Forward(AddressFamily family, bool wanted, ref bool changed, List<Exception> failures)
    {
        try
        {
            if (wanted && !os.IsForwardingEnabled(family))
            {
                os.SetForwarding(family, true);
                changed = true;
            }
            else if (!wanted && changed)
            {
                os.SetForwarding(family, false);
                changed = false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add(e);
        }
    }
}
