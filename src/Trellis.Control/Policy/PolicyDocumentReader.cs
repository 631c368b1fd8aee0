namespace Trellis.Control.Policy;

/// <summary>Turns the parsed HuJSON into a <see cref="PolicyDocument"/>: the shape of each section, unknown fields refused.</summary>
internal static class PolicyDocumentReader
{
    public static PolicyDocument Read(PolicyValue root)
    {
        if (root.Kind != PolicyValueKind.Object)
        {
            throw root.Error("the policy must be a JSON object, such as {\"acls\": [...]}");
        }

        IReadOnlyList<NamedList> groups = [], tagOwners = [], routes = [];
        IReadOnlyList<(PolicyString, PolicyString)> hosts = [];
        IReadOnlyList<AclEntry> acls = [];
        IReadOnlyList<PolicyString> exitNode = [];
        IReadOnlyList<PolicyTestEntry> tests = [];
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var member in root.Members)
        {
            var section = Known(member, PolicyNames.Sections.All, "the policy", PolicyNames.Sections.TailscaleOnly);
            if (!seen.Add(section))
            {
                throw member.Error($"the section \"{section}\" appears twice (names ignore case): keep one");
            }

            switch (section)
            {
                case PolicyNames.Sections.Groups:
                    groups = NamedLists(member.Value, "groups");
                    break;
                case PolicyNames.Sections.TagOwners:
                    tagOwners = NamedLists(member.Value, "tagOwners");
                    break;
                case PolicyNames.Sections.Hosts:
                    hosts = Hosts(member.Value);
                    break;
                case PolicyNames.Sections.Acls:
                    acls = Array(member.Value, "acls").Select(Acl).ToList();
                    break;
                case PolicyNames.Sections.AutoApprovers:
                    (routes, exitNode) = AutoApprovers(member.Value);
                    break;
                default:
                    tests = Array(member.Value, "tests").Select(Test).ToList();
                    break;
            }
        }

        return new PolicyDocument(groups, tagOwners, hosts, acls, routes, exitNode, tests);
    }

    private static AclEntry Acl(PolicyValue value, int index)
    {
        var where = $"acls[{index}]";
        Object(value, where);
        PolicyString? action = null, proto = null;
        IReadOnlyList<PolicyString>? src = null, dst = null;
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var member in value.Members)
        {
            var field = PolicyNames.Same(member.Name, PolicyNames.AclFields.LegacyUsers) ? PolicyNames.AclFields.Src
                : PolicyNames.Same(member.Name, PolicyNames.AclFields.LegacyPorts) ? PolicyNames.AclFields.Dst
                : Known(member, PolicyNames.AclFields.All, where);
            if (!seen.Add(field))
            {
                throw member.Error($"{where} gives \"{field}\" twice (\"users\" is the old name of \"src\", \"ports\" of \"dst\"): keep one");
            }

            switch (field)
            {
                case PolicyNames.AclFields.Action:
                    action = String(member.Value, $"{where}.action");
                    break;
                case PolicyNames.AclFields.Src:
                    src = Strings(member.Value, $"{where}.src");
                    break;
                case PolicyNames.AclFields.Dst:
                    dst = Strings(member.Value, $"{where}.dst");
                    break;
                default:
                    proto = member.Value.Kind == PolicyValueKind.Number ? member.Value.AsPolicyString() : String(member.Value, $"{where}.proto");
                    break;
            }
        }

        if (action is not { } a || !string.Equals(a.Value, PolicyNames.Accept, StringComparison.Ordinal))
        {
            var at = action ?? new PolicyString(string.Empty, value.Line, value.Column);
            throw at.Error($"{where} needs \"action\": \"accept\" (access is denied by default, so accept is the only action)");
        }

        if (src is not { Count: > 0 })
        {
            throw value.Error($"{where} has no \"src\": list who the rule lets in, e.g. [\"group:eng\"]");
        }

        if (dst is not { Count: > 0 })
        {
            throw value.Error($"{where} has no \"dst\": list what the rule opens as target:ports, e.g. [\"tag:server:22\"]");
        }

        return new AclEntry(index, src, dst, proto, value.Line, value.Column);
    }

    private static PolicyTestEntry Test(PolicyValue value, int index)
    {
        var where = $"tests[{index}]";
        Object(value, where);
        PolicyString? src = null, proto = null;
        IReadOnlyList<PolicyString> accept = [], deny = [];
        foreach (var member in value.Members)
        {
            switch (Known(member, PolicyNames.TestFields.All, where))
            {
                case PolicyNames.TestFields.Src:
                    src = String(member.Value, $"{where}.src");
                    break;
                case PolicyNames.TestFields.Accept:
                    accept = Strings(member.Value, $"{where}.accept");
                    break;
                case PolicyNames.TestFields.Deny:
                    deny = Strings(member.Value, $"{where}.deny");
                    break;
                default:
                    proto = member.Value.Kind == PolicyValueKind.Number ? member.Value.AsPolicyString() : String(member.Value, $"{where}.proto");
                    break;
            }
        }

        if (src is not { } source)
        {
            throw value.Error($"{where} has no \"src\": name the user, group, tag or host the test is about");
        }

        if (accept.Count == 0 && deny.Count == 0)
        {
            throw value.Error($"{where} checks nothing: give \"accept\" or \"deny\" as a list of target:port");
        }

        return new PolicyTestEntry(index, source, proto, accept, deny);
    }

    private static (IReadOnlyList<NamedList> Routes, IReadOnlyList<PolicyString> ExitNode) AutoApprovers(PolicyValue value)
    {
        Object(value, "autoApprovers");
        IReadOnlyList<NamedList> routes = [];
        IReadOnlyList<PolicyString> exitNode = [];
        foreach (var member in value.Members)
        {
            if (Known(member, PolicyNames.AutoApproverFields.All, "autoApprovers") == PolicyNames.AutoApproverFields.Routes)
            {
                routes = NamedLists(member.Value, "autoApprovers.routes");
            }
            else
            {
                exitNode = Strings(member.Value, "autoApprovers.exitNode");
            }
        }

        return (routes, exitNode);
    }

    private static List<(PolicyString, PolicyString)> Hosts(PolicyValue value)
    {
        Object(value, "hosts");
        return value.Members.Select(m => (m.NameString, String(m.Value, $"hosts.{m.Name}"))).ToList();
    }

    private static List<NamedList> NamedLists(PolicyValue value, string where)
    {
        Object(value, where);
        return value.Members.Select(m => new NamedList(m.NameString, Strings(m.Value, $"{where}.{m.Name}"))).ToList();
    }

    private static List<PolicyString> Strings(PolicyValue value, string where) =>
        Array(value, where).Select(item => String(item, where)).ToList();

    private static IReadOnlyList<PolicyValue> Array(PolicyValue value, string where) =>
        value.Kind == PolicyValueKind.Array ? value.Items : throw value.Error($"{where} must be a list [...]");

    private static void Object(PolicyValue value, string where)
    {
        if (value.Kind != PolicyValueKind.Object)
        {
            throw value.Error($"{where} must be an object {{...}}");
        }
    }

    private static PolicyString String(PolicyValue value, string where) =>
        value.Kind == PolicyValueKind.String ? value.AsPolicyString() : throw value.Error($"{where} must be a string in double quotes");

    /// <summary>The canonical spelling of a known field; an unknown one is an error listing what is allowed.</summary>
    private static string Known(PolicyMember member, IReadOnlyList<string> allowed, string where, IReadOnlyList<string>? unsupported = null)
    {
        foreach (var name in allowed)
        {
            if (PolicyNames.Same(name, member.Name))
            {
                return name;
            }
        }

        if (unsupported?.Any(name => PolicyNames.Same(name, member.Name)) == true)
        {
            throw member.Error($"\"{member.Name}\" is a Tailscale section Trellis does not support; remove it (allowed: {string.Join(", ", allowed)})");
        }

        throw member.Error($"unknown field \"{member.Name}\" in {where}; allowed: {string.Join(", ", allowed)}");
    }
}
