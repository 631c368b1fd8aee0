using System.Collections.Concurrent;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Crypto;
using Trellis.Net;

namespace Trellis.Discovery.Tests;

/// <summary>
/// Issue 18: on a UDP-hostile network the firewall drops every datagram the node sends, its own
/// wake-up to loopback included; relayed packets must still reach WireGuard, so the receiver blocked
/// on the quiet socket has to be woken some other way.
/// </summary>
public sealed class FirewalledSocketTests : IDisposable
{
    private readonly FakeRelay _relay = new();
    private readonly FirewalledBind _socket = new(new UdpBind());
    private readonly Key _nodeKey = X25519.PublicKey(X25519.GeneratePrivateKey());
    private readonly Key _peerKey = X25519.PublicKey(X25519.GeneratePrivateKey());
    private readonly DiscoveryBind _bind;
    private readonly ConcurrentQueue<Endpoint> _received = new();
    private readonly Thread _receiver;

    public FirewalledSocketTests()
    {
        _bind = new DiscoveryBind(_socket, _relay.Connect(_nodeKey), new DiscoveryBindOptions
        {
            NodePublicKey = _nodeKey,
            DiscoPrivateKey = X25519.GeneratePrivateKey(),
        });
        _bind.Open(0);
        _bind.SetPeers([new DiscoPeer(_peerKey, X25519.PublicKey(X25519.GeneratePrivateKey()), [], 900)]);
        _receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "firewalled receive" };
        _receiver.Start();
    }

    public void Dispose()
    {
        _bind.Dispose();
        _receiver.Join(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Relayed_packets_reach_a_receiver_waiting_on_a_socket_whose_every_send_is_dropped()
    {
        var peer = _relay.Connect(_peerKey);
        var packet = new byte[100];
        packet[0] = 4; // a WireGuard transport message: type 4, three zero bytes

        for (var i = 1; i <= 3; i++)
        {
            // Each packet finds the receiver back in its socket wait, so each needs a wake-up.
            await Task.Delay(100);
            Assert.True(peer.TrySend(_nodeKey, packet));
            await TestNode.WaitForAsync(() => _received.Count == i, $"relayed packet {i} to be received");
        }

        var synthetic = _bind.SyntheticEndpointOf(_peerKey)!.Value;
        Assert.All(_received, source => Assert.Equal(synthetic, source));
        Assert.Equal(3, _bind.RelayReceived);
    }

    [Fact]
    public async Task Closing_still_ends_the_receiver()
    {
        await Task.Delay(100);
        _bind.Close();
        Assert.True(_receiver.Join(TimeSpan.FromSeconds(30)), "the receiver returned after the close");
    }

    private void ReceiveLoop()
    {
        var batch = PacketBuffer.AllocateBatch(_bind.BatchSize);
        while (true)
        {
            var n = _bind.Receive(batch);
            if (n == 0)
            {
                return;
            }

            for (var i = 0; i < n; i++)
            {
                _received.Enqueue(batch[i].Endpoint);
            }
        }
    }

    /// <summary>A real socket behind a firewall that drops every outgoing datagram (sendmmsg fails with EPERM).</summary>
    private sealed class FirewalledBind(UdpBind inner) : IWakeableBind
    {
        public int BatchSize => inner.BatchSize;

        public ushort Port => inner.Port;

        public ushort Open(ushort port) => inner.Open(port);

        public void SetMark(uint mark) => inner.SetMark(mark);

        public void Close() => inner.Close();

        public void Dispose() => inner.Dispose();

        public int Receive(Span<PacketBuffer> packets) => inner.Receive(packets);

        public void Send(ReadOnlySpan<PacketBuffer> packets)
        {
        }

        public void WakeReceiver() => inner.WakeReceiver();
    }
}
