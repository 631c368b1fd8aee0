using System.Collections.Immutable;
using System.Net;
using Trellis.Core.Control;
using Trellis.Node.Dns;

namespace Trellis.Node.Tests.Dns;

/// <summary>A small mesh (self "alpha", peers "bravo" and "charlie") and its names.</summary>
internal static class MeshNamesFixture
{
    public static readonly DnsConfig Config = new()
    {
        BaseDomain = "mesh.test",
        SplitDns = new Dictionary<string, IReadOnlyList<string>>
        {
            ["corp.example"] = ["10.1.0.53"],
            ["lab.corp.example"] = ["10.2.0.53:5353"],
        },
        ExtraRecords = [new DnsExtraRecord("printer.mesh.test", "100.64.9.9")],
    };

    public static NetMap Map(string bravoName = "bravo") => new()
    {
        Self = Peer(1, "alpha", "100.64.0.1", "fd11:2233:4455::6440:1"),
        Peers = ImmutableDictionary<long, PeerInfo>.Empty
            .Add(2, Peer(2, bravoName, "100.64.0.2", "fd11:2233:4455::6440:2"))
            .Add(3, Peer(3, "charlie", "100.64.0.3", "fd11:2233:4455::6440:3")),
        Dns = Config,
    };

    public static MeshNames Names(NetMap? map = null, params IPEndPoint[] hostNameservers)
    {
        map ??= Map();
        Assert.True(DnsConfigRules.TryNormalize(map.Dns!, out var config, out var error), error);
        return MeshNames.Build(map, config, hostNameservers);
    }

    public static PeerInfo Peer(long id, string name, string v4, string v6) => new()
    {
        Id = id,
        Name = name,
        NodeKey = "k" + id,
        DiscoKey = "d" + id,
        Addresses = [v4 + "/32", v6 + "/128"],
        AllowedIps = [v4 + "/32", v6 + "/128"],
    };
}
