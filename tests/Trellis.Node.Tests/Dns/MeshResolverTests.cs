using System.Net;
using System.Net.Sockets;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Control;
using Trellis.Node.Dns;
using Trellis.Testing;

namespace Trellis.Node.Tests.Dns;

/// <summary>
/// The resolver on real loopback sockets: answers over UDP and TCP, a too-large answer truncated over
/// UDP and whole over TCP, forwarding to a split domain's server and to the upstreams (another
/// resolver playing each), and garbage that is dropped without harm to the next query.
/// </summary>
public sealed class MeshResolverTests : IDisposable
{
    // A safety net: a healthy answer on loopback takes milliseconds.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly List<MeshResolver> _resolvers = [];

    public void Dispose()
    {
        foreach (var resolver in _resolvers)
        {
            resolver.Dispose();
        }
    }

    [Fact]
    public async Task Mesh_names_are_answered_over_udp_and_tcp()
    {
        var endpoint = Start(MeshNamesFixture.Names());
        foreach (var tcp in new[] { false, true })
        {
            var response = await AskAsync(endpoint, "bravo.mesh.test", RecordType.A, tcp);
            Assert.Equal(ReturnCode.NoError, response.ReturnCode);
            Assert.Equal("100.64.0.2", Assert.IsType<ARecord>(Assert.Single(response.AnswerRecords)).Address.ToString());
        }
    }

    [Fact]
    public async Task An_answer_too_large_for_udp_is_truncated_there_and_whole_over_tcp()
    {
        var map = MeshNamesFixture.Map();
        var many = Enumerable.Range(1, 200).Select(i => new DnsExtraRecord("many.mesh.test", $"100.65.{i / 250}.{(i % 250) + 1}")).ToList();
        var endpoint = Start(MeshNamesFixture.Names(map with { Dns = map.Dns! with { ExtraRecords = many } }));

        var udp = await RawUdpAsync(endpoint, DnsQueryWire.Query("many.mesh.test", RecordType.A));
        var truncated = DnsMessage.Parse(new ArraySegment<byte>(udp));
        Assert.True(truncated.IsTruncated);
        Assert.True(udp.Length <= 512);

        var whole = await AskAsync(endpoint, "many.mesh.test", RecordType.A, tcp: true);
        Assert.Equal(200, whole.AnswerRecords.Count);
    }

    [Fact]
    public async Task Split_domains_go_to_their_own_server_and_other_names_to_the_upstream()
    {
        var split = Start(Names(new DnsExtraRecord("www.corp.example", "10.9.9.1")));
        var upstream = Start(Names(new DnsExtraRecord("www.corp.example", "10.9.9.2"), new DnsExtraRecord("example.org", "192.0.2.80"), "upstream.test"));
        var map = MeshNamesFixture.Map();
        var config = map.Dns! with { SplitDns = new Dictionary<string, IReadOnlyList<string>> { ["corp.example"] = [split.ToString()] } };
        var endpoint = Start(MeshNamesFixture.Names(map with { Dns = config }, upstream));

        Assert.Equal("10.9.9.1", FirstAddress(await AskAsync(endpoint, "www.corp.example", RecordType.A)));
        Assert.Equal("192.0.2.80", FirstAddress(await AskAsync(endpoint, "example.org", RecordType.A)));
        Assert.Equal(ReturnCode.NxDomain, (await AskAsync(endpoint, "nothing.upstream.test", RecordType.A)).ReturnCode);
    }

    [Fact]
    public async Task Without_any_upstream_a_foreign_name_fails_cleanly()
    {
        var endpoint = Start(MeshNamesFixture.Names());
        Assert.Equal(ReturnCode.ServerFailure, (await AskAsync(endpoint, "example.org", RecordType.A)).ReturnCode);
    }

    [Fact]
    public async Task Garbage_and_truncated_packets_are_dropped_and_the_next_query_is_answered()
    {
        var endpoint = Start(MeshNamesFixture.Names());
        var valid = DnsQueryWire.Query("charlie.mesh.test", RecordType.A);
        byte[][] bad =
        [
            [],
            [0x12],
            valid[..5],
            valid[..(valid.Length - 3)],
            [.. valid[..12], 0xff, 0xff, 0xff],
            [.. Enumerable.Repeat((byte)0xc0, 600)],
            [.. Enumerable.Range(0, 1400).Select(i => (byte)(i * 37))],
        ];
        using (var socket = new UdpClient(AddressFamily.InterNetwork))
        {
            foreach (var packet in bad)
            {
                await socket.SendAsync(packet, endpoint);
            }
        }

        // Over TCP too: a length prefix promising more than is sent, then a closed connection.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(endpoint);
            await tcp.GetStream().WriteAsync(new byte[] { 0x01, 0x00, 0xde, 0xad });
        }

        Assert.Equal("100.64.0.3", FirstAddress(await AskAsync(endpoint, "charlie.mesh.test", RecordType.A)));
        Assert.Equal("100.64.0.3", FirstAddress(await AskAsync(endpoint, "charlie.mesh.test", RecordType.A, tcp: true)));
    }

    [Fact]
    public void Only_this_host_may_ask_never_a_peer_through_the_tunnel()
    {
        var map = MeshNamesFixture.Map();
        var own = map.Self.Addresses.Select(a => IPNetwork.Parse(a).BaseAddress).ToHashSet();
        var peers = map.Peers.Values.SelectMany(p => p.Addresses).Select(a => IPNetwork.Parse(a).BaseAddress).ToList();
        Assert.NotEmpty(peers);
        foreach (var peer in peers)
        {
            Assert.False(MeshResolver.MayAsk(peer, own), $"the peer at {peer} may ask");
            Assert.False(MeshResolver.MayAsk(peer.MapToIPv6(), own), $"the peer at {peer} (v4-mapped) may ask");
        }

        Assert.False(MeshResolver.MayAsk(IPAddress.Parse("192.0.2.1"), own));
        Assert.All(own, address => Assert.True(MeshResolver.MayAsk(address, own)));
        Assert.True(MeshResolver.MayAsk(IPAddress.Loopback, own));
        Assert.True(MeshResolver.MayAsk(IPAddress.IPv6Loopback, own));
        Assert.True(MeshResolver.MayAsk(Trellis.Core.Control.MeshResolverAddress.IPv4, own));
    }

    /// <summary>Another resolver's names (a stand-in nameserver): the fixture's mesh under <paramref name="baseDomain"/>, plus <paramref name="record"/> and <paramref name="more"/>.</summary>
    private static MeshNames Names(DnsExtraRecord record, DnsExtraRecord? more = null, string baseDomain = "mesh.test")
    {
        var map = MeshNamesFixture.Map();
        DnsExtraRecord[] records = more is null ? [record] : [record, more];
        return MeshNamesFixture.Names(map with { Dns = map.Dns! with { BaseDomain = baseDomain, SplitDns = new Dictionary<string, IReadOnlyList<string>>(), ExtraRecords = records } });
    }

    private IPEndPoint Start(MeshNames names)
    {
        // A free port for both UDP and TCP: another test may take it between the probe and the bind, so try a few.
        for (var attempt = 0; ; attempt++)
        {
            int port;
            using (var probe = new TcpListener(IPAddress.Loopback, 0))
            {
                probe.Start();
                port = ((IPEndPoint)probe.LocalEndpoint).Port;
            }

            var endpoint = new IPEndPoint(IPAddress.Loopback, port);
            try
            {
                _resolvers.Add(MeshResolver.Start([endpoint], names, [], NullLogger.Instance));
                return endpoint;
            }
            catch (SocketException) when (attempt < 10)
            {
            }
        }
    }

    private static async Task<DnsMessage> AskAsync(IPEndPoint server, string name, RecordType type, bool tcp = false)
    {
        IClientTransport transport = tcp ? new TcpClientTransport(server.Port) : new UdpClientTransport(server.Port);
        using var client = new DnsClient([server.Address], [transport], disposeTransport: true, queryTimeout: (int)Wait.TotalMilliseconds);
        var query = new DnsMessage { IsRecursionDesired = true };
        query.Questions.Add(new DnsQuestion(DomainName.Parse(name), type, RecordClass.INet));
        return await client.SendMessageAsync(query) ?? throw new TimeoutException($"no answer for {name} from {server}");
    }

    private static async Task<byte[]> RawUdpAsync(IPEndPoint server, byte[] query)
    {
        using var socket = new UdpClient(AddressFamily.InterNetwork);
        await socket.SendAsync(query, server);
        using var timeout = new CancellationTokenSource(Wait);
        return (await socket.ReceiveAsync(timeout.Token)).Buffer;
    }

    private static string? FirstAddress(DnsMessage response) =>
        response.AnswerRecords.OfType<ARecord>().FirstOrDefault()?.Address.ToString();
}
