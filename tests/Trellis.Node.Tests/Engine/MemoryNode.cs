using System.Net;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Node.Engine;
using Trellis.WireGuard;

namespace Trellis.Node.Tests.Engine;

/// <summary>
/// A <see cref="WireGuardEngine"/> on in-memory doubles: its TUN is an <see cref="InMemoryTun"/>, its
/// socket an <see cref="InMemoryBind"/> at 192.0.2.ID:41641, its OS a <see cref="RecordingNetworkConfig"/>.
/// </summary>
internal sealed class MemoryNode : IAsyncDisposable
{
    // A safety net only (every wait on it expects something to arrive): a loaded 2-core machine can stall a thread for over 10 s.
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private InMemoryTun? _tun;

    public MemoryNode(InMemoryNetwork network, long id, TimeProvider? time = null, RecordingNetworkConfig? os = null, bool discovery = false)
    {
        Id = id;
        PrivateKey = TestMaps.NewPrivateKey();
        Os = os ?? new RecordingNetworkConfig();
        var bind = network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse($"192.0.2.{id}:0")));
        Engine = new WireGuardEngine(
            new EngineOptions
            {
                PrivateKey = PrivateKey,
                Time = time ?? TimeProvider.System,
                Device = new DeviceOptions { Workers = 2 },
                CreateTun = (name, mtu) => _tun = new InMemoryTun(name, mtu),
                CreateBind = () => bind,

                // The test maps give each node its node key as disco key too.
                DiscoPrivateKey = discovery ? PrivateKey : null,
            },
            Os);
    }

    public long Id { get; }

    public Key PrivateKey { get; }

    public string NodeKey => TestMaps.PublicOf(PrivateKey);

    public RecordingNetworkConfig Os { get; }

    public WireGuardEngine Engine { get; }

    public InMemoryTun Tun => _tun!;

    public Device Device => Engine.Device;

    public PeerInfo Info(IReadOnlyList<string>? routes = null, IReadOnlyList<string>? endpoints = null) =>
        TestMaps.Peer(Id, NodeKey, routes, endpoints);

    public Task ApplyAsync(NetMap map, EngineSettings? settings = null) =>
        Engine.ApplyAsync(map, settings ?? new EngineSettings(), CancellationToken.None);

    /// <summary>The device peer for a node key, or null.</summary>
    public Peer? DevicePeer(string nodeKey) => Device.LookupPeer(Key.FromBase64(nodeKey));

    /// <summary>Injects a packet from this node's host to <paramref name="to"/> and returns what its host receives.</summary>
    public byte[]? Send(MemoryNode to, string source, string destination)
    {
        var packet = IPPackets.Udp(source, destination, 64);
        Tun.Inject(packet);
        var buffers = new[] { new PacketBuffer() };
        var n = to.Tun.Delivered.Dequeue(buffers, 0, Patience);
        return n == 0 ? null : buffers[0].Packet.ToArray();
    }

    public ValueTask DisposeAsync() => Engine.DisposeAsync();
}
