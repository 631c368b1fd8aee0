using System.Net;
using System.Net.Sockets;
using Trellis.Core.Control;

namespace Trellis.Control.Policy;

/// <summary>
/// Runs the policy's "tests" at compile time: for each test, hypothetical nodes of the source and of each
/// destination go through the compiled policy's own filter, so a test checks exactly what nodes enforce.
/// </summary>
internal static class PolicyTestRunner
{
    private const long SourceId = 1;
    private const long DestinationId = 2;

    // Addresses for hypothetical nodes, at the far end of the default overlay ranges where no literal rule is likely.
    private static readonly IPAddress SourceV4 = IPAddress.Parse("100.127.255.253");
    private static readonly IPAddress DestinationV4 = IPAddress.Parse("100.127.255.254");
    private static readonly IPAddress SourceV6 = IPAddress.Parse("fd7a:7472:6c6c:ffff::fd");
    private static readonly IPAddress DestinationV6 = IPAddress.Parse("fd7a:7472:6c6c:ffff::fe");

    public static void Run(CompiledPolicy policy, PolicyScope scope, IReadOnlyList<PolicyTestEntry> tests)
    {
        foreach (var test in tests)
        {
            var protocols = PolicyProtocols.Parse(test.Protocol);
            var protocol = protocols.Count == 0 ? IpProtocols.Tcp : protocols[0];
            var sources = Sources(test, scope);
            foreach (var (entries, expected) in new[] { (test.Accept, true), (test.Deny, false) })
            {
                foreach (var entry in entries)
                {
                    var (destinations, port) = Destinations(test, entry, scope, protocols);
                    foreach (var source in sources)
                    {
                        foreach (var destination in destinations)
                        {
                            if (Reaches(policy, source, destination, protocol, port, test, entry) != expected)
                            {
                                throw entry.Error(expected
                                    ? $"test {test.Index} (src {test.Source.Value}) fails: {source.Name} cannot reach {entry.Value}, which the test accepts"
                                    : $"test {test.Index} (src {test.Source.Value}) fails: {source.Name} can reach {entry.Value}, which the test denies");
                            }
                        }
                    }
                }
            }
        }
    }

    private static List<Party> Sources(PolicyTestEntry test, PolicyScope scope)
    {
        var src = test.Source;
        if (PolicyNames.IsGroup(src.Value))
        {
            var members = scope.GroupMembers(src);
            return members.Count > 0
                ? members.Select(user => Party.User(user, SourceId, SourceV4, SourceV6)).ToList()
                : throw src.Error($"test {test.Index}: '{src.Value}' has no members to test");
        }

        if (PolicyNames.IsTag(src.Value))
        {
            return [Party.Tagged(scope.DefinedTag(src), SourceId, SourceV4, SourceV6)];
        }

        if (PolicyNames.IsUser(src.Value))
        {
            return [Party.User(PolicyScope.User(src), SourceId, SourceV4, SourceV6)];
        }

        if (src.Value != PolicyNames.Any && !PolicyNames.IsAutogroup(src.Value) && scope.TryAddress(src, out var prefix))
        {
            return [Party.Address(src.Value, prefix.BaseAddress)];
        }

        throw src.Error($"test {test.Index}: the src of a test is one user (alice@), group, tag, host or IP address, not '{src.Value}'");
    }

    private static (List<Party> Parties, int Port) Destinations(PolicyTestEntry test, PolicyString entry, PolicyScope scope, IReadOnlyList<int> protocols)
    {
        var destination = scope.Destination(entry, protocols);
        var portless = !PolicyProtocols.HavePorts(protocols);
        if (!portless && (destination.Ports is not [var range] || range.First != range.Last))
        {
            throw entry.Error($"test {test.Index}: a test checks one port; write '{destination.Selector.Text}:22', not '{entry.Value}'");
        }

        var selector = destination.Selector;
        List<Party> parties = selector.Kind switch
        {
            SelectorKind.Users when PolicyNames.IsGroup(selector.Text) && selector.Users.Count == 0 =>
                throw entry.Error($"test {test.Index}: '{selector.Text}' has no members to test"),
            SelectorKind.Users => selector.Users.Select(user => Party.User(user, DestinationId, DestinationV4, DestinationV6)).ToList(),
            SelectorKind.Tag => [Party.Tagged(selector.Tag, DestinationId, DestinationV4, DestinationV6)],
            SelectorKind.Prefix => [Party.Router(selector.Text, selector.Prefix.BaseAddress)],
            _ => throw entry.Error($"test {test.Index}: a test's destination is a user, group, tag, host or IP address with a port, not '{entry.Value}'"),
        };
        return (parties, portless ? 0 : destination.Ports[0].First);
    }

    private static bool Reaches(CompiledPolicy policy, Party source, Party destination, int protocol, int port, PolicyTestEntry test, PolicyString entry)
    {
        var family = source.Literal?.AddressFamily ?? destination.Literal?.AddressFamily ?? AddressFamily.InterNetwork;
        if (source.Literal is { } s && destination.Literal is { } d && s.AddressFamily != d.AddressFamily)
        {
            throw entry.Error($"test {test.Index}: {source.Name} and {entry.Value} are of different IP families, so no packet could pass between them");
        }

        var from = source.Literal ?? Pick(source.Node!, family);
        var to = destination.Literal ?? Pick(destination.Node!, family);
        var nodes = new PolicyNodeSet(source.Node is null ? [destination.Node!] : [source.Node, destination.Node!]);
        var filter = policy.InboundFilter(destination.Node!, nodes);
        return filter.Rules.Any(rule =>
            PolicyProtocols.Allow(rule.Protocols, protocol)
            && rule.Sources.Any(prefix => IPNetwork.Parse(prefix).Contains(from))
            && rule.Destinations.Any(d => d.FirstPort <= port && port <= d.LastPort && IPNetwork.Parse(d.Prefix).Contains(to)));
    }

    private static IPAddress Pick(PolicyNode node, AddressFamily family) => family == AddressFamily.InterNetwork ? node.IPv4 : node.IPv6;

    /// <summary>One side of a test: a hypothetical node, or a bare address (a source IP, or a destination behind a router node).</summary>
    private sealed record Party(string Name, PolicyNode? Node, IPAddress? Literal)
    {
        public static Party User(string user, long id, IPAddress v4, IPAddress v6) =>
            new($"{user}@", new PolicyNode(id, user, [], v4, v6, []), null);

        public static Party Tagged(string tag, long id, IPAddress v4, IPAddress v6) =>
            new(tag, new PolicyNode(id, null, [tag], v4, v6, []), null);

        public static Party Address(string name, IPAddress address) => new(name, null, address);

        /// <summary>A node that owns the address, or routes it: a rule naming it either way lets the packet in.</summary>
        public static Party Router(string name, IPAddress address)
        {
            var v4 = address.AddressFamily == AddressFamily.InterNetwork ? address : DestinationV4;
            var v6 = address.AddressFamily == AddressFamily.InterNetworkV6 ? address : DestinationV6;
            return new(name, new PolicyNode(DestinationId, null, [], v4, v6, [PolicyPrefixes.Host(address)]), address);
        }
    }
}
