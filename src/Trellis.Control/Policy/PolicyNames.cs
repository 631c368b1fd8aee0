namespace Trellis.Control.Policy;

/// <summary>The words of Tailscale's policy format that Trellis understands, in one place.</summary>
internal static class PolicyNames
{
    public const string Any = "*";
    public const string GroupPrefix = "group:";
    public const string TagPrefix = "tag:";
    public const string AutogroupPrefix = "autogroup:";
    public const string UserSuffix = "@";

    public const string AutogroupMember = "autogroup:member";
    public const string AutogroupTagged = "autogroup:tagged";
    public const string AutogroupSelf = "autogroup:self";
    public const string AutogroupInternet = "autogroup:internet";
    public const string AutogroupAdmin = "autogroup:admin";

    public const string Accept = "accept";

    public static class Sections
    {
        public const string Groups = "groups";
        public const string TagOwners = "tagOwners";
        public const string Hosts = "hosts";
        public const string Acls = "acls";
        public const string AutoApprovers = "autoApprovers";
        public const string Tests = "tests";

        public static readonly IReadOnlyList<string> All = [Groups, TagOwners, Hosts, Acls, AutoApprovers, Tests];

        /// <summary>Tailscale sections a moved policy may carry that a Trellis mesh has no use for yet.</summary>
        public static readonly IReadOnlyList<string> TailscaleOnly =
            ["ssh", "sshTests", "nodeAttrs", "grants", "postures", "derpMap", "disableIPv4", "randomizeClientPort", "ipsets", "OneCGNATRoute"];
    }

    public static class AclFields
    {
        public const string Action = "action";
        public const string Src = "src";
        public const string Dst = "dst";
        public const string Proto = "proto";

        /// <summary>Tailscale's older names for src and dst, still accepted there.</summary>
        public const string LegacyUsers = "users";
        public const string LegacyPorts = "ports";

        public static readonly IReadOnlyList<string> All = [Action, Src, Dst, Proto];
    }

    public static class TestFields
    {
        public const string Src = "src";
        public const string Accept = "accept";
        public const string Deny = "deny";
        public const string Proto = "proto";

        public static readonly IReadOnlyList<string> All = [Src, Accept, Deny, Proto];
    }

    public static class AutoApproverFields
    {
        public const string Routes = "routes";
        public const string ExitNode = "exitNode";

        public static readonly IReadOnlyList<string> All = [Routes, ExitNode];
    }

    public static bool IsGroup(string text) => text.StartsWith(GroupPrefix, StringComparison.Ordinal);

    public static bool IsTag(string text) => text.StartsWith(TagPrefix, StringComparison.Ordinal);

    public static bool IsAutogroup(string text) => text.StartsWith(AutogroupPrefix, StringComparison.Ordinal);

    public static bool IsUser(string text) => text.Contains('@', StringComparison.Ordinal);

    /// <summary>Field names match regardless of case, as Tailscale's parser matches "ACLs" and "acls".</summary>
    public static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
}
