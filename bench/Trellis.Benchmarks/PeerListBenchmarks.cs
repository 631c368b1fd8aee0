using System.Buffers;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Trellis.Core.Control;

namespace Trellis.Benchmarks;

/// <summary>
/// The peer list of one full map of 1,000 peers, as the server writes it for each joining node:
/// every entry serialized by the generated serializer (as before `SharedPeerListConverter`), beside
/// the entries' kept JSON copied in (what every map after the first costs now). In a join storm of N
/// nodes the first is paid about N²/2 times, the second's serializing N times.
/// Run: dotnet run -c Release --project bench/Trellis.Benchmarks -- --filter '*PeerList*' --job short --inProcess
/// </summary>
[MemoryDiagnoser]
public class PeerListBenchmarks
{
    private readonly ArrayBufferWriter<byte> _buffer = new(1 << 20);
    private readonly SharedPeerListConverter _shared = new();
    private List<PeerInfo> _peers = null!;

    [Params(1000)]
    public int Peers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _peers = [.. Enumerable.Range(1, Peers).Select(i => BenchPeers.Entry(i, homeRelay: 1))];
        Shared(); // the entries' JSON is kept from here on, as after a node's first map
    }

    [Benchmark(Baseline = true)]
    public int EachEntrySerialized()
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        writer.WriteStartArray();
        foreach (var peer in _peers)
        {
            JsonSerializer.Serialize(writer, peer, ControlJsonContext.Default.PeerInfo);
        }

        writer.WriteEndArray();
        writer.Flush();
        return _buffer.WrittenCount;
    }

    [Benchmark]
    public int Shared()
    {
        _buffer.ResetWrittenCount();
        using var writer = new Utf8JsonWriter(_buffer);
        _shared.Write(writer, _peers, ControlJsonContext.Default.Options);
        writer.Flush();
        return _buffer.WrittenCount;
    }
}
