using System.Collections.Concurrent;
using System.Net;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;
using Trellis.Discovery.Messages;

namespace Trellis.Discovery.Tests;

/// <summary>
/// A peer with a disco key and a socket but no bind: the test writes its disco messages by hand
/// (a flood, a replay), and it collects the disco messages that reach it.
/// </summary>
internal sealed class FakePeer : IDisposable
{
    private readonly Thread _receiver;

    public FakePeer(InMemoryNetwork network, string address)
    {
        NodeKey = X25519.PublicKey(X25519.GeneratePrivateKey());
        Sealer = new DiscoSealer(X25519.GeneratePrivateKey());
        Socket = network.CreateBind(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(address), 0)));
        Socket.Open(0);
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "fake peer " + address };
        _receiver.Start();
    }

    public Key NodeKey { get; }

    public DiscoSealer Sealer { get; }

    public InMemoryBind Socket { get; }

    public Endpoint Local => Socket.LocalEndpoint;

    public ConcurrentQueue<DiscoMessage> Received { get; } = new();

    public DiscoPeer AsPeer(params Endpoint[] endpoints) => new(NodeKey, Sealer.PublicKey, endpoints, 900);

    public void SendDisco(TestNode to, in DiscoMessage message)
    {
        var b = new PacketBuffer();
        b.Length = Sealer.Seal(to.Bind.DiscoPublicKey, message, b.Data);
        b.Endpoint = to.Local;
        Socket.Send([b]);
    }

    /// <summary>
    /// Pings the node and waits for its pong: the node's receive thread handles datagrams in order,
    /// so once the pong is back everything sent before the ping has been handled.
    /// </summary>
    public async Task RoundTripAsync(TestNode to)
    {
        var tx = DiscoTxId.New();
        SendDisco(to, DiscoMessage.Ping(tx, NodeKey));
        await TestNode.WaitForAsync(() => Received.Any(m => m.Type == DiscoMessageType.Pong && m.TxId == tx), "the pong that ends a round trip");
    }

    private void ReceiveLoop()
    {
        var batch = PacketBuffer.AllocateBatch(Socket.BatchSize);
        while (true)
        {
            var n = Socket.Receive(batch);
            if (n == 0)
            {
                return;
            }

            for (var i = 0; i < n; i++)
            {
                if (Sealer.TryOpen(batch[i].Packet, out _, out var message))
                {
                    Received.Enqueue(message);
                }
            }
        }
    }

    public void Dispose()
    {
        Socket.Dispose();
        _receiver.Join(TimeSpan.FromSeconds(5));
    }
}
