using System.Collections.Concurrent;
using System.Net;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;

namespace Trellis.Discovery.Tests;

/// <summary>A DiscoveryBind on an in-memory network with a receive thread collecting what it passes up.</summary>
internal sealed class TestNode : IDisposable
{
    private readonly Thread _receiver;

    public TestNode(InMemoryNetwork network, string address, IRelayTransport? relay, TimeProvider time, Key? nodePrivate = null, IGuessSocketFactory? guessSockets = null)
        : this(network.CreateBind(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), 0))), IPAddress.Parse(address), relay, time, nodePrivate, guessSockets)
    {
    }

    private TestNode(InMemoryBind inner, IPAddress wakeAddress, IRelayTransport? relay, TimeProvider time, Key? nodePrivate, IGuessSocketFactory? guessSockets)
        : this(inner, WatchedBind.Of(inner, () => inner.Delivered), wakeAddress, relay, time, nodePrivate, guessSockets)
    {
    }

    /// <summary>A node on a dual-stack socket (woken without a datagram).</summary>
    public TestNode(DualStackBind inner, IRelayTransport? relay, TimeProvider time, Key nodePrivate)
        : this(inner, WatchedBind.Of(inner, () => inner.Delivered), IPAddress.Loopback, relay, time, nodePrivate, null)
    {
    }

    private TestNode(IBind inner, WatchedBind socket, IPAddress wakeAddress, IRelayTransport? relay, TimeProvider time, Key? nodePrivate, IGuessSocketFactory? guessSockets)
    {
        NodePrivate = nodePrivate ?? X25519.GeneratePrivateKey();
        NodeKey = X25519.PublicKey(NodePrivate);
        DiscoPrivate = X25519.GeneratePrivateKey();
        Inner = inner;
        Socket = socket;
        Bind = new DiscoveryBind(socket, relay, new DiscoveryBindOptions
        {
            NodePublicKey = NodeKey,
            DiscoPrivateKey = DiscoPrivate,
            WakeAddress = Endpoint.FromIPEndPoint(new IPEndPoint(wakeAddress, 0)).Address,
            Time = time,
            GuessSockets = guessSockets,
        });
        Bind.Open(0);
        Local = inner is InMemoryBind bound ? bound.LocalEndpoint : default;
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "receive " + Local };
        _receiver.Start();
    }

    public Key NodePrivate { get; }

    public Key NodeKey { get; }

    public Key DiscoPrivate { get; }

    public IBind Inner { get; }

    /// <summary>The socket as the bind sees it, telling whether the node has handled all it was sent.</summary>
    public WatchedBind Socket { get; }

    public DiscoveryBind Bind { get; }

    /// <summary>The socket's endpoint; default on a <see cref="DualStackBind"/>, which has one per family.</summary>
    public Endpoint Local { get; }

    public ConcurrentQueue<(Endpoint Source, byte[] Data)> Received { get; } = new();

    public DiscoPeer AsPeer(int homeRelay = 900) => new(NodeKey, Bind.DiscoPublicKey, [Local], homeRelay);

    /// <summary>Sends WireGuard-looking packets (type 4, three zeros, a counter) to a peer's synthetic endpoint.</summary>
    public void SendWireGuard(Key peer, int count = 1)
    {
        var to = Bind.SyntheticEndpointOf(peer) ?? throw new InvalidOperationException("unknown peer");
        var batch = PacketBuffer.AllocateBatch(count);
        for (var i = 0; i < count; i++)
        {
            batch[i].Data[0] = 4;
            batch[i].Data.Slice(1, 3).Clear();
            batch[i].Data[4] = (byte)i;
            batch[i].Length = 100;
            batch[i].Endpoint = to;
        }

        Bind.Send(batch);
    }

    private void ReceiveLoop()
    {
        var batch = PacketBuffer.AllocateBatch(Bind.BatchSize);
        while (true)
        {
            var n = Bind.Receive(batch);
            if (n == 0)
            {
                return;
            }

            for (var i = 0; i < n; i++)
            {
                Received.Enqueue((batch[i].Endpoint, batch[i].Packet.ToArray()));
            }
        }
    }

    public void Dispose()
    {
        Bind.Dispose();
        _receiver.Join(TimeSpan.FromSeconds(5));
    }

    /// <summary>Polls until <paramref name="condition"/> holds; the timeout is a safety net for busy shared cores, never a measurement.</summary>
    public static async Task WaitForAsync(Func<bool> condition, string what, int timeoutMs = 30_000)
    {
        var start = Environment.TickCount64;
        while (!condition())
        {
            if (Environment.TickCount64 - start > timeoutMs)
            {
                Assert.Fail("timed out waiting for " + what);
            }

            await Task.Delay(5);
        }
    }
}
