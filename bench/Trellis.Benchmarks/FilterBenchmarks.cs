using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Trellis.Core.Control;
using Trellis.Crypto;
using Trellis.Node.Filter;

namespace Trellis.Benchmarks;

/// <summary>
/// The receive path's per-packet work on one core for a 1420-byte UDP packet: open it (as the
/// device does, in place) and, with a policy, run the inbound filter of 100 rules on it. The
/// packet is granted by the last rule, answers a flow this node opened (the flow table), or is
/// refused. Recording a sent packet's flow is the send path's share. The "Everyone" cases are
/// bench/policy-throughput.sh's policy: 100 rules from every source, so each is a candidate for every
/// packet and only the port tells them apart.
/// Run: dotnet run -c Release --project bench/Trellis.Benchmarks -- --filter '*Filter*' --job short --inProcess
/// (in process: on the shared 2-core machine BenchmarkDotNet's rebuild of Trellis.Node outlasts its
/// 2-minute build timeout).
/// </summary>
[MemoryDiagnoser]
public class FilterBenchmarks
{
    private const int PacketSize = 1420;
    private const int GrantedPort = 5432;
    private const ulong Nonce = 7;

    private readonly byte[] _key = new byte[32];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _work = new byte[PacketSize];
    private ChaChaPolyContext _context = null!;
    private StatefulPacketFilter _filter = null!;
    private StatefulPacketFilter _everyone = null!;
    private byte[] _granted = null!;
    private byte[] _reply = null!;
    private byte[] _refused = null!;
    private byte[] _sent = null!;
    private byte[] _sealedGranted = null!;
    private byte[] _grantedTag = null!;

    [GlobalSetup]
    public void Setup()
    {
        RandomNumberGenerator.Fill(_key);
        _context = new ChaChaPolyContext();
        _filter = new StatefulPacketFilter(TimeProvider.System);
        _filter.Update(HundredRules());

        _granted = Udp("100.64.0.2", 40000, "100.64.0.1", GrantedPort);
        _reply = Udp("100.64.0.9", 80, "100.64.0.1", 40001);
        _refused = Udp("100.64.0.9", 80, "100.64.0.1", 40002);
        _sent = Udp("100.64.0.1", 40001, "100.64.0.9", 80);
        _filter.RecordOutbound(_sent);
        _everyone = new StatefulPacketFilter(TimeProvider.System);
        _everyone.Update(HundredRulesFromEveryone());
        _everyone.RecordOutbound(_sent);

        _sealedGranted = (byte[])_granted.Clone();
        _grantedTag = new byte[16];
        _context.Seal(_key, Nonce, _sealedGranted, _grantedTag);
    }

    [GlobalCleanup]
    public void Cleanup() => _context.Dispose();

    [Benchmark(Baseline = true)]
    public bool ReceiveWithoutFilter() => Open();

    [Benchmark]
    public bool ReceiveHundredRulesGranted() => Open() && _filter.Allows(_work);

    [Benchmark]
    public bool FilterOnlyGrantedByLastRule() => _filter.Allows(_granted);

    [Benchmark]
    public bool FilterOnlyReplyToOwnFlow() => _filter.Allows(_reply);

    [Benchmark]
    public bool FilterOnlyRefused() => _filter.Allows(_refused);

    [Benchmark]
    public bool EveryoneGrantedByLastRule() => _everyone.Allows(_granted);

    [Benchmark]
    public bool EveryoneReplyToOwnFlow() => _everyone.Allows(_reply);

    [Benchmark]
    public void RecordOutboundFlow() => _filter.RecordOutbound(_sent);

    private bool Open()
    {
        _sealedGranted.CopyTo(_work, 0);
        return _context.Open(_key, Nonce, _work, _grantedTag);
    }

    /// <summary>99 rules for other sources, then the one that grants 100.64.0.2 UDP 5432.</summary>
    private static PacketFilter HundredRules() => new()
    {
        Rules =
        [
            .. Enumerable.Range(0, 99).Select(i => new FilterRule
            {
                Sources = [$"100.64.1.{i}/32", $"fd7a:1::{i:x}/128"],
                Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 1000 + i, LastPort = 1000 + i }],
            }),
            new FilterRule
            {
                Sources = ["100.64.0.2/32"],
                Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = GrantedPort, LastPort = GrantedPort }],
                Protocols = [IpProtocols.Udp],
            },
        ],
    };

    /// <summary>99 rules from the whole overlay for other ports, then the one for UDP 5432.</summary>
    private static PacketFilter HundredRulesFromEveryone() => new()
    {
        Rules =
        [
            .. Enumerable.Range(0, 100).Select(i => new FilterRule
            {
                Sources = ["100.64.0.0/10", "fd7a:7472:6c6c::/48"],
                Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = i == 99 ? GrantedPort : 10001 + i, LastPort = i == 99 ? GrantedPort : 10001 + i }],
            }),
        ],
    };

    private static byte[] Udp(string source, int sourcePort, string destination, int destinationPort)
    {
        var p = new byte[PacketSize];
        p[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), PacketSize);
        p[8] = 64;
        p[9] = IpProtocols.Udp;
        IPAddress.Parse(source).GetAddressBytes().CopyTo(p, 12);
        IPAddress.Parse(destination).GetAddressBytes().CopyTo(p, 16);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(20), (ushort)sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(22), (ushort)destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(24), PacketSize - 20);
        return p;
    }
}
