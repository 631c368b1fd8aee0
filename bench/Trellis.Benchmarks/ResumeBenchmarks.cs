using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Trellis.Control.Mesh;
using Trellis.Core.Control;
using Trellis.Node;
using Trellis.Node.Control;

namespace Trellis.Benchmarks;

/// <summary>
/// One node reconnecting in a mesh of <see cref="Nodes"/> nodes, of which <see cref="Changed"/> changed
/// while it was away: a full map (the server's map written as the wire carries it, read and built into
/// the node's map) beside a resume (the node's digests of what it holds written and read, the server's
/// delta from them written, read and applied). The bytes each way are printed at setup.
/// Run: dotnet run -c Release --project bench/Trellis.Benchmarks -- --filter '*Resume*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class ResumeBenchmarks
{
    private static readonly IReadOnlyList<string> Overlay = ["100.64.0.0/10", "fd7a:115c:a1e0::/48"];
    private MeshState _mesh = null!;
    private NetMap _held = null!;

    [Params(1000)]
    public int Nodes { get; set; }

    [Params(10)]
    public int Changed { get; set; }

    private static PeerInfo Entry(int i, bool moved = false) => BenchPeers.Entry(i, homeRelay: 900, moved);

    [GlobalSetup]
    public void Setup()
    {
        _mesh = new MeshState(() => new RelayMap { Regions = [new RelayRegion { Id = 900, Code = "replica" }] }, Overlay);
        for (var i = 1; i <= Nodes; i++)
        {
            _mesh.Upsert(Entry(i));
        }

        var (full, fullBytes) = Send(Open(null));
        _held = NetMapBuilder.FromFull((FullMap)full);
        for (var i = 2; i < 2 + Changed; i++)
        {
            _mesh.Upsert(Entry(i, moved: true));
        }

        var request = new MapRequest { Protocol = ControlProtocol.Current, Resume = Resume(_held) };
        var requestBytes = JsonSerializer.SerializeToUtf8Bytes<ControlMessage>(request, ControlJsonContext.Default.ControlMessage).Length;
        var (delta, deltaBytes) = Send(Open(request.Resume));
        Console.WriteLine($"// {Nodes} nodes, {Changed} changed: full map {fullBytes} bytes; resume: request {requestBytes} bytes, delta {deltaBytes} bytes ({((MapDelta)delta).PeersChanged.Count} peers)");
    }

    private static MapResume Resume(NetMap map) => MapDigest.Resume([.. map.Peers.Values], map.OverlayPrefixes, map.Dns);

    private ControlMessage Open(MapResume? resume)
    {
        using var session = _mesh.Connect(1, ControlProtocol.Current, resume);
        var first = session.NextAsync(TimeSpan.FromSeconds(5), CancellationToken.None).AsTask().GetAwaiter().GetResult()!;
        _mesh.Disconnect(session);
        return first;
    }

    /// <summary>The message as the node receives it: written and read by the protocol's serializer.</summary>
    private static (ControlMessage Message, int Bytes) Send(ControlMessage message)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(message, ControlJsonContext.Default.ControlMessage);
        return (JsonSerializer.Deserialize(json, ControlJsonContext.Default.ControlMessage)!, json.Length);
    }

    [Benchmark(Baseline = true)]
    public int FullMap() => NetMapBuilder.FromFull((FullMap)Send(Open(null)).Message).Peers.Count;

    [Benchmark]
    public int Resumed()
    {
        var (request, _) = Send(new MapRequest { Protocol = ControlProtocol.Current, Resume = Resume(_held) });
        return NetMapBuilder.Apply(_held, (MapDelta)Send(Open(((MapRequest)request).Resume)).Message).Peers.Count;
    }
}
