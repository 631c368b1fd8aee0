using System.Collections.Immutable;
using ARSoft.Tools.Net.Dns;
using Trellis.Core.Control;
using Trellis.Node;
using Trellis.Node.Dns;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// A query to the mesh resolver: the DNS library parses it (whatever it throws, its server drops the
/// packet, so any exception there is a refusal), then <see cref="MeshAnswers"/> answers it from a
/// small mesh, where nothing may throw.
/// </summary>
public static class DnsQueryTarget
{
    private static readonly MeshNames Names = BuildNames();

    public static bool Run(ReadOnlySpan<byte> input)
    {
        DnsMessage query;
        try
        {
            query = DnsMessage.Parse(new ArraySegment<byte>(input.ToArray()));
        }
#pragma warning disable CA1031 // the library documents no exceptions; its server drops on any of them
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }

        if (query.IsQuery && query.Questions.Count > 0)
        {
            _ = MeshAnswers.TryAnswer(query, Names);
            _ = MeshAnswers.Normalize(query.Questions[0].Name);
        }

        return true;
    }

    private static MeshNames BuildNames()
    {
        static PeerInfo Peer(long id, string name) => new()
        {
            Id = id,
            Name = name,
            NodeKey = "k" + id,
            DiscoKey = "d" + id,
            Addresses = [$"100.64.0.{id}/32", $"fd11:2233:4455::6440:{id}/128"],
            AllowedIps = [],
        };

        var config = new DnsConfig { BaseDomain = "mesh.test", ExtraRecords = [new DnsExtraRecord("printer.mesh.test", "100.64.9.9")] };
        var map = new NetMap { Self = Peer(1, "alpha"), Peers = ImmutableDictionary<long, PeerInfo>.Empty.Add(2, Peer(2, "bravo")), Dns = config };
        return MeshNames.Build(map, config, []);
    }
}
