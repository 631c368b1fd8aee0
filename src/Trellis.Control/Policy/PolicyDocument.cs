namespace Trellis.Control.Policy;

/// <summary>The policy text read into its sections, every string still knowing where it was written; nothing resolved yet.</summary>
internal sealed record PolicyDocument(
    IReadOnlyList<NamedList> Groups,
    IReadOnlyList<NamedList> TagOwners,
    IReadOnlyList<(PolicyString Name, PolicyString Value)> Hosts,
    IReadOnlyList<AclEntry> Acls,
    IReadOnlyList<NamedList> AutoApproveRoutes,
    IReadOnlyList<PolicyString> AutoApproveExitNode,
    IReadOnlyList<PolicyTestEntry> Tests);

/// <summary>A name and the strings listed for it: a group's members, a tag's owners, a route's approvers.</summary>
internal sealed record NamedList(PolicyString Name, IReadOnlyList<PolicyString> Items);

/// <summary>One entry of "acls"; <see cref="Index"/> counts from 0 as the person sees the list.</summary>
internal sealed record AclEntry(
    int Index,
    IReadOnlyList<PolicyString> Sources,
    IReadOnlyList<PolicyString> Destinations,
    PolicyString? Protocol,
    int Line,
    int Column);

/// <summary>One entry of "tests": from <see cref="Source"/>, each of <see cref="Accept"/> must be reachable and each of <see cref="Deny"/> not.</summary>
internal sealed record PolicyTestEntry(
    int Index,
    PolicyString Source,
    PolicyString? Protocol,
    IReadOnlyList<PolicyString> Accept,
    IReadOnlyList<PolicyString> Deny);
