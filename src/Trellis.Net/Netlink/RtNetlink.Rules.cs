namespace Trellis.Net.Netlink;

public sealed partial class RtNetlink
{
    /// <summary>Adds the rule; throws EEXIST when an identical one exists.</summary>
    public void AddRule(RoutingRule rule) => ModifyRule(rule, add: true);

    /// <summary>Deletes the rule; throws ENOENT when there is none like it.</summary>
    public void DeleteRule(RoutingRule rule) => ModifyRule(rule, add: false);

    private void ModifyRule(RoutingRule rule, bool add)
    {
        var family = rule.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPPrefix.AF_INET6 : IPPrefix.AF_INET;
        var operation = $"{(add ? "add" : "delete")} rule {rule}";
        lock (_gate)
        {
            var request = add ? Begin(Rtnl.RTM_NEWRULE, Rtnl.NLM_F_CREATE | Rtnl.NLM_F_EXCL) : Begin(Rtnl.RTM_DELRULE, 0);
            ref var header = ref request.Header<FibRuleHdr>();
            header.Family = family;
            header.Action = Rtnl.FR_ACT_TO_TBL;
            header.Table = rule.Table <= byte.MaxValue ? (byte)rule.Table : (byte)0; // FRA_TABLE carries the full id
            if (rule.NotFwmark is { } mark)
            {
                header.Flags = Rtnl.FIB_RULE_INVERT;
                request.UInt32(Rtnl.FRA_FWMARK, mark);
                request.UInt32(Rtnl.FRA_FWMASK, uint.MaxValue);
            }

            if (rule.IncomingInterface is { } incoming)
            {
                request.String(Rtnl.FRA_IIFNAME, incoming);
            }

            if (rule.SuppressPrefixLength is { } length)
            {
                request.UInt32(Rtnl.FRA_SUPPRESS_PREFIXLEN, (uint)length);
            }

            request.UInt32(Rtnl.FRA_PRIORITY, rule.Priority);
            request.UInt32(Rtnl.FRA_TABLE, rule.Table);
            Execute(ref request, operation, errno => errno switch
            {
                NetlinkErrno.EEXIST => "an identical rule exists",
                NetlinkErrno.ENOENT => "no such rule",
                _ => null,
            });
        }
    }
}
