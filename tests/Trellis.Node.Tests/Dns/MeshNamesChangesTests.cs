using System.Collections.Immutable;
using System.Net;
using Trellis.Core.Control;
using Trellis.Node.Dns;

namespace Trellis.Node.Tests.Dns;

/// <summary><see cref="MeshNames.With"/> answers as the whole map's names would, or declines.</summary>
public sealed class MeshNamesChangesTests
{
    private static readonly PeerInfo Delta = MeshNamesFixture.Peer(4, "delta", "100.64.0.4", "fd11:2233:4455::6440:4");

    private static readonly string[] Asked =
    [
        "alpha", "bravo", "charlie", "delta", "bravo2", "alpha.mesh.test", "bravo.mesh.test", "charlie.mesh.test",
        "delta.mesh.test", "bravo2.mesh.test", "printer.mesh.test",
    ];

    private static readonly string[] Addresses =
    [
        "100.64.0.1", "100.64.0.2", "100.64.0.3", "100.64.0.4",
        "fd11:2233:4455::6440:1", "fd11:2233:4455::6440:2", "fd11:2233:4455::6440:3", "fd11:2233:4455::6440:4",
    ];

    [Fact]
    public void Peers_added_removed_and_renamed_answer_as_the_whole_maps_names()
    {
        var map = MeshNamesFixture.Map();
        var bravo = map.Peers[2];
        var charlie = map.Peers[3];
        var renamed = bravo with { Name = "bravo2" };
        var changed = MeshNamesFixture.Names(map).With([charlie, bravo], [Delta, renamed]);

        var after = map with { Peers = ((ImmutableDictionary<long, PeerInfo>)map.Peers).Remove(3).SetItem(2, renamed).Add(4, Delta) };
        Assert.NotNull(changed);
        Assert.Equal(Answers(MeshNamesFixture.Names(after)), Answers(changed));
        Assert.Equal(IPAddress.Parse("100.64.0.4"), changed.Addresses("delta.mesh.test")![0]);
        Assert.Null(changed.Addresses("charlie"));
        Assert.Null(changed.Addresses("bravo"));
    }

    [Theory]
    [InlineData("bravo", "100.64.0.9", "fd11:2233:4455::6440:9")]
    [InlineData("printer", "100.64.0.9", "fd11:2233:4455::6440:9")]
    [InlineData("echo", "100.64.0.3", "fd11:2233:4455::6440:9")]
    public void A_peer_whose_name_or_address_another_holds_is_left_to_the_whole_map(string name, string v4, string v6) =>
        Assert.Null(MeshNamesFixture.Names().With([], [MeshNamesFixture.Peer(9, name, v4, v6)]));

    [Fact]
    public void A_peer_whose_name_it_shares_is_not_taken_out_alone()
    {
        var map = MeshNamesFixture.Map();
        var twin = MeshNamesFixture.Peer(9, "charlie", "100.64.0.9", "fd11:2233:4455::6440:9");
        var names = MeshNamesFixture.Names(map with { Peers = ((ImmutableDictionary<long, PeerInfo>)map.Peers).Add(9, twin) });
        Assert.Null(names.With([twin], []));
    }

    private static List<string> Answers(MeshNames names) =>
        [
            .. Asked.Select(n => $"{n}: {string.Join(",", names.Addresses(n)?.Select(a => a.ToString()) ?? [])}"),
            .. Addresses.Select(a => $"{a}: {names.NameOf(MeshNames.ReverseName(IPAddress.Parse(a)))}"),
        ];
}
