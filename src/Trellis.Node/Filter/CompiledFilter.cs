using Trellis.Core.Control;

namespace Trellis.Node.Filter;

/// <summary>
/// A <see cref="PacketFilter"/> from the control server turned into what the data path searches:
/// per address family, a source index and flat arrays of rules and destinations. Immutable, so the
/// running device switches to a new one with one reference write.
/// </summary>
internal sealed class CompiledFilter
{
    /// <summary>
    /// The most rules a node's filter may hold. The source index holds a bit per rule for each piece
    /// of the address space, so its size grows with the square of the rules: 10,000 rules with
    /// distinct sources cost about 25 MB, far more than any one node's share of a real policy.
    /// </summary>
    public const int MaxRules = 10_000;

    private CompiledFilter(bool allowsAll, FamilyRules v4, FamilyRules v6)
    {
        AllowsAll = allowsAll;
        V4 = v4;
        V6 = v6;
    }

    /// <summary>No policy: every packet passes.</summary>
    public static CompiledFilter AllowAll { get; } = Compile(PacketFilter.AllowAll, []);

    public bool AllowsAll { get; }

    public FamilyRules V4 { get; }

    public FamilyRules V6 { get; }

    /// <summary>Whether a rule lets the (first-fragment or unfragmented) packet in.</summary>
    public bool Allows(in PacketHeaders packet) => AllowsAll || (packet.IsV6 ? V6 : V4).Allows(packet);

    /// <summary>
    /// Compiles <paramref name="filter"/>. Entries that cannot be read are left out and described in
    /// <paramref name="problems"/>: leaving out a source, destination or protocol only ever narrows
    /// what a rule grants.
    /// </summary>
    public static CompiledFilter Compile(PacketFilter filter, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (filter.AllowsAll)
        {
            return new CompiledFilter(true, Empty(false), Empty(true));
        }

        var rules = filter.Rules;
        if (rules.Count > MaxRules)
        {
            problems.Add($"the packet filter has {rules.Count} rules, more than the {MaxRules} a node accepts; nothing is let in until the policy is smaller");
            rules = [];
        }

        return new CompiledFilter(false, CompileFamily(rules, isV6: false, problems), CompileFamily(rules, isV6: true, problems));
    }

    private static FamilyRules Empty(bool isV6) => CompileFamily([], isV6, []);

    private static FamilyRules CompileFamily(IReadOnlyList<FilterRule> rules, bool isV6, List<string> problems)
    {
        var sources = new List<IReadOnlyList<AddressRange>>();
        var compiled = new List<CompiledRule>();
        var destinations = new List<DestinationRange>();
        var scratch = new List<AddressRange>();
        for (var r = 0; r < rules.Count; r++)
        {
            var rule = rules[r];
            var ruleSources = Ranges(rule.Sources, isV6, scratch, r, "source", problems);
            var first = destinations.Count;
            foreach (var destination in rule.Destinations ?? [])
            {
                if (!ValidPorts(destination))
                {
                    Report(problems, isV6, $"rule {r + 1}: the ports {destination.FirstPort}-{destination.LastPort} of '{destination.Prefix}' are not a range within 0-{IpProtocols.MaxPort}; left out");
                    continue;
                }

                foreach (var range in Ranges([destination.Prefix], isV6, scratch, r, "destination", problems))
                {
                    destinations.Add(new DestinationRange(range.First, range.Last, (ushort)destination.FirstPort, (ushort)destination.LastPort));
                }
            }

            var protocols = (rule.Protocols is { Count: > 0 } named ? named : IpProtocols.Default).Where(p => ValidProtocol(p, r, isV6, problems)).ToList();
            if (ruleSources.Count == 0 || destinations.Count == first || protocols.Count == 0)
            {
                destinations.RemoveRange(first, destinations.Count - first);
                continue; // grants nothing in this family
            }

            sources.Add(ruleSources);
            compiled.Add(new CompiledRule(protocols, first, destinations.Count - first));
        }

        var last = isV6 ? UInt128.MaxValue : uint.MaxValue;
        return new FamilyRules(new SourceIndex(sources, last), [.. compiled], [.. destinations]);
    }

    private static List<AddressRange> Ranges(IReadOnlyList<string>? texts, bool isV6, List<AddressRange> scratch, int rule, string what, List<string> problems)
    {
        var result = new List<AddressRange>();
        foreach (var text in texts ?? [])
        {
            scratch.Clear();
            if (text is null || !AddressRange.TryParse(text, scratch))
            {
                Report(problems, isV6, $"rule {rule + 1}: the {what} '{text}' is not an IP address or prefix; left out");
                continue;
            }

            result.AddRange(scratch.Where(range => range.IsV6 == isV6));
        }

        return result;
    }

    private static bool ValidPorts(FilterDestination destination) =>
        destination.FirstPort >= 0 && destination.LastPort <= IpProtocols.MaxPort && destination.FirstPort <= destination.LastPort;

    private static bool ValidProtocol(int protocol, int rule, bool isV6, List<string> problems)
    {
        if (protocol is >= 0 and <= byte.MaxValue)
        {
            return true;
        }

        Report(problems, isV6, $"rule {rule + 1}: {protocol} is not an IP protocol number (0-255); left out");
        return false;
    }

    // Each rule is compiled once per family; a problem is worth saying once.
    private static void Report(List<string> problems, bool isV6, string problem)
    {
        if (!isV6)
        {
            problems.Add(problem);
        }
    }
}
