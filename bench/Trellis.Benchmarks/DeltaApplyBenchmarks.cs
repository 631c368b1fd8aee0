using BenchmarkDotNet.Attributes;
using Trellis.Core.Control;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;
using Trellis.Node;
using Trellis.Node.Control;
using Trellis.Node.Dns;
using Trellis.Node.Engine;

namespace Trellis.Benchmarks;

/// <summary>
/// A node in a mesh of <see cref="Peers"/> peers takes in a full map of it beside a one-peer delta (one
/// peer's endpoint moved, then back) and a delta that adds a peer, then one that removes it again:
/// the control client's map building and the engine's reconcile
/// (WireGuard peers and allowed IPs, discovery, routes, filter) on an in-memory TUN and socket, the OS
/// configuration recorded rather than applied. The full map's entries are new objects each time, as
/// read from the wire; the cache write is left out (see docs/BENCHMARKS.md), and the resolver's names are
/// measured on their own, built from the whole map and changed for a peer that joined.
/// Run: dotnet run -c Release --project bench/Trellis.Benchmarks -- --filter '*DeltaApply*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class DeltaApplyBenchmarks
{
    private static readonly IReadOnlyList<string> Overlay = ["100.64.0.0/10", "fd7a:115c:a1e0::/48"];
    private static readonly EngineSettings Settings = new() { AcceptRoutes = true };
    private static readonly DnsConfig Names = new() { BaseDomain = DnsConfig.DefaultBaseDomain };
    private readonly FullMap[] _fulls = new FullMap[2];
    private readonly MapDelta[] _deltas = new MapDelta[2];
    private readonly MapDelta[] _joinLeave = new MapDelta[2];
    private WireGuardEngine _engine = null!;
    private NetMap _current = null!;
    private int _turn;
    private MeshNames? _names;

    [Params(5000)]
    public int Peers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // Two full maps of equal content but distinct entries, taken in turn: no entry is ever the one applied last.
        for (var i = 0; i < _fulls.Length; i++)
        {
            _fulls[i] = new FullMap
            {
                Self = BenchPeers.Entry(Peers + 1, homeRelay: 0),
                Peers = [.. Enumerable.Range(1, Peers).Select(p => BenchPeers.Entry(p, homeRelay: 0))],
                OverlayPrefixes = Overlay,
                ServerProtocol = ControlProtocol.Current,
            };
        }

        _deltas[0] = new MapDelta { PeersChanged = [BenchPeers.Entry(2, homeRelay: 0, moved: true)] };
        _deltas[1] = new MapDelta { PeersChanged = [BenchPeers.Entry(2, homeRelay: 0)] };
        _joinLeave[0] = new MapDelta { PeersChanged = [BenchPeers.Entry(Peers + 2, homeRelay: 0)] };
        _joinLeave[1] = new MapDelta { PeersRemoved = [Peers + 2] };
        var network = new InMemoryNetwork();
        _engine = new WireGuardEngine(
            new EngineOptions
            {
                PrivateKey = X25519.GeneratePrivateKey(),
                DiscoPrivateKey = X25519.GeneratePrivateKey(),
                ListenPort = 0,
                CreateTun = (name, mtu) => new InMemoryTun(name, mtu),
                CreateBind = () => network.CreateBind(default),
            },
            new RecordingNetworkConfig());
        _current = NetMapBuilder.FromFull(_fulls[1]);
        _engine.ApplyAsync(_current, Settings, CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public int FullMap() => Take(NetMapBuilder.FromFull(_fulls[_turn++ % 2]));

    [Benchmark]
    public int OnePeerDelta() => Take(NetMapBuilder.Apply(_current, _deltas[_turn++ % 2]));

    /// <summary>A peer joins, then leaves at the next call.</summary>
    [Benchmark]
    public int PeerJoinsOrLeaves() => Take(NetMapBuilder.Apply(_current, _joinLeave[_turn++ % 2]));

    /// <summary>What the names resolver built from the whole map when a peer came or went.</summary>
    [Benchmark]
    public int MeshNamesOfTheMap() => MeshNames.Build(_current, Names, []).Upstreams.Count;

    /// <summary>What it does now: the names of the map with one peer's added.</summary>
    [Benchmark]
    public int MeshNamesWithAPeerJoined() => (_names ??= MeshNames.Build(_current, Names, [])).With([], _joinLeave[0].PeersChanged)!.Upstreams.Count;

    private int Take(NetMap map)
    {
        _engine.ApplyAsync(map, Settings, CancellationToken.None).GetAwaiter().GetResult();
        _current = map;
        return map.Peers.Count;
    }
}
