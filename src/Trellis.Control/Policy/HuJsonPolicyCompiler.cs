using System.Net;

namespace Trellis.Control.Policy;

/// <summary>
/// Compiles a policy in Tailscale's HuJSON format: parse (size-bounded, positions kept), read the sections,
/// resolve every name, index the rules, then run the policy's own tests. Any failure is a
/// <see cref="PolicyException"/> with the line and column of the offending text.
/// </summary>
public sealed class HuJsonPolicyCompiler : IPolicyCompiler
{
    public IAccessPolicy Compile(string text) => CompilePolicy(text);

    /// <summary>As <see cref="Compile"/>, with what <c>trellis policy check</c> reports: counts and warnings.</summary>
    public CompiledPolicy CompilePolicy(string text)
    {
        var document = PolicyDocumentReader.Read(PolicyJsonReader.Parse(text));
        var scope = PolicyScope.Build(document);
        var rules = document.Acls.Select(acl => Rule(acl, scope)).ToList();
        var routeApprovers = document.AutoApproveRoutes.Select(entry => (RoutePrefix(entry.Name, scope), scope.Owners(entry.Items, "autoApprovers.routes"))).ToList();
        var exitNodeApprovers = scope.Owners(document.AutoApproveExitNode, "autoApprovers.exitNode");

        var warnings = new List<string>();
        if (rules.Count == 0)
        {
            warnings.Add(PolicyWarnings.DeniesEverything);
        }

        var policy = new CompiledPolicy(rules, scope.TagOwners, routeApprovers, exitNodeApprovers, warnings);
        PolicyTestRunner.Run(policy, scope, document.Tests);
        policy.TestCount = document.Tests.Count;
        return policy;
    }

    private static CompiledRule Rule(AclEntry acl, PolicyScope scope)
    {
        var protocols = PolicyProtocols.Parse(acl.Protocol);
        var sources = acl.Sources.Select(scope.Source).ToList();
        var destinations = acl.Destinations.Select(d => scope.Destination(d, protocols)).ToList();
        return new CompiledRule(acl.Index, sources, destinations, protocols);
    }

    private static IPNetwork RoutePrefix(PolicyString text, PolicyScope scope)
    {
        if (!scope.TryAddress(text, out var prefix))
        {
            throw text.Error($"'{text.Value}' in autoApprovers.routes is not a prefix: write the routes it approves, e.g. \"10.1.0.0/16\"");
        }

        return prefix.PrefixLength == 0
            ? throw text.Error($"'{text.Value}' is a default route, which makes an exit node: list its approvers under autoApprovers.exitNode")
            : prefix;
    }
}
