namespace Trellis.Control.Policy;

/// <summary>Which of a node's prefixes a destination covers: its own addresses, and the subnet routes it serves that the destination names.</summary>
internal static class DestinationCoverage
{
    public static bool Any(Selector selector, PolicyNode node) => selector.Kind switch
    {
        SelectorKind.All => true,
        SelectorKind.Prefix => PolicyPrefixes.Touches(selector.Prefix, node),
        SelectorKind.Self => !node.IsTagged && node.User is not null,
        SelectorKind.Internet => InternetAccess.IsExitNode(node),
        _ => selector.NamesNode(node),
    };

    public static void Add(Selector selector, PolicyNode node, List<string> into)
    {
        switch (selector.Kind)
        {
            case SelectorKind.All:
                AddAddresses(node, into);

                // "*" opens the subnets a node routes too, as in Tailscale.
                into.AddRange(node.Routes.Select(route => route.ToString()));
                break;
            case SelectorKind.Prefix:
                var prefix = selector.Prefix;
                if (prefix.Contains(node.IPv4))
                {
                    into.Add(PolicyPrefixes.HostText(node.IPv4));
                }

                if (prefix.Contains(node.IPv6))
                {
                    into.Add(PolicyPrefixes.HostText(node.IPv6));
                }

                // Naming a route (or a prefix holding it) grants the route; naming part of a route grants that part.
                foreach (var route in node.Routes)
                {
                    if (PolicyPrefixes.Covers(prefix, route))
                    {
                        into.Add(route.ToString());
                    }
                    else if (PolicyPrefixes.Covers(route, prefix))
                    {
                        into.Add(prefix.ToString());
                    }
                }

                break;
            case SelectorKind.Internet:
                if (InternetAccess.IsExitNode(node))
                {
                    into.AddRange(InternetAccess.Prefixes);
                }

                break;
            default:
                if (Any(selector, node))
                {
                    AddAddresses(node, into);
                }

                break;
        }
    }

    private static void AddAddresses(PolicyNode node, List<string> into)
    {
        into.Add(PolicyPrefixes.HostText(node.IPv4));
        into.Add(PolicyPrefixes.HostText(node.IPv6));
    }
}
