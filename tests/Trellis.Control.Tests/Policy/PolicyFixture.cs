using System.Globalization;
using System.Net;
using Trellis.Control.Policy;
using Trellis.Core.Control;

namespace Trellis.Control.Tests.Policy;

/// <summary>Nodes with predictable addresses, and the question an operator asks of a filter: does this packet pass?</summary>
internal static class PolicyFixture
{
    public static CompiledPolicy Compile(string text) => new HuJsonPolicyCompiler().CompilePolicy(text);

    public static PolicyException Refused(string text) => Assert.Throws<PolicyException>(() => Compile(text));

    /// <summary>Node N has 100.64.0.N and fd7a:7472:6c6c::N.</summary>
    public static PolicyNode Node(long id, string? user, string[]? tags = null, params string[] routes) => new(
        id,
        user,
        tags ?? [],
        IPAddress.Parse($"100.64.{id / 256}.{id % 256}"),
        IPAddress.Parse($"fd7a:7472:6c6c::{id.ToString("x", CultureInfo.InvariantCulture)}"),
        routes.Select(r => IPNetwork.Parse(r)).ToList());

    public static PolicyNode Tagged(long id, params string[] tags) => Node(id, "owner", tags);

    /// <summary>Whether a packet from <paramref name="from"/> to <paramref name="to"/> passes the filter of the node it reaches.</summary>
    public static bool Allows(PacketFilter filter, IPAddress from, IPAddress to, int port, int protocol = IpProtocols.Tcp) =>
        filter.AllowsAll || filter.Rules.Any(rule =>
            (rule.Protocols.Count == 0 ? IpProtocols.Default.Contains(protocol) : rule.Protocols.Contains(protocol))
            && rule.Sources.Any(s => IPNetwork.Parse(s).Contains(from))
            && rule.Destinations.Any(d => d.FirstPort <= port && port <= d.LastPort && IPNetwork.Parse(d.Prefix).Contains(to)));

    /// <summary>Whether <paramref name="from"/> may open <paramref name="port"/> on <paramref name="to"/>'s IPv4 address, as <paramref name="to"/> enforces it.</summary>
    public static bool Reaches(IAccessPolicy policy, PolicyNodeSet set, PolicyNode from, PolicyNode to, int port, int protocol = IpProtocols.Tcp) =>
        Allows(policy.InboundFilter(to, set), from.IPv4, to.IPv4, port, protocol);

    public static PolicyNodeSet Set(params PolicyNode[] nodes) => new(nodes);
}
