using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Keys;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;

namespace Trellis.WireGuard.Tests;

/// <summary>
/// Two devices, A (10.0.0.1 / fd00::1 inside, 192.0.2.1 outside) and B (10.0.0.2 / fd00::2,
/// 192.0.2.2), joined by an in-memory network, optionally on a fake clock.
/// </summary>
internal sealed class DevicePair : IDisposable
{
    /// <param name="bindA">A transport for A instead of the in-memory network (then endpoints are set by the test).</param>
    /// <param name="bindB">A transport for B instead of the in-memory network.</param>
    public DevicePair(TimeProvider? time = null, bool up = true, int workers = 2, IBind? bindA = null, IBind? bindB = null)
    {
        Time = time ?? TimeProvider.System;
        Network = new InMemoryNetwork();
        Network.Tap = (s, d, p) =>
        {
            lock (Wire)
            {
                Wire.Add((s, d, p.ToArray()));
            }
        };
        KeyA = X25519.GeneratePrivateKey();
        KeyB = X25519.GeneratePrivateKey();
        TunA = new InMemoryTun("a0");
        TunB = new InMemoryTun("b0");
        BindA = Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:0")));
        BindB = Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:0")));
        var options = new DeviceOptions { Workers = workers };
        A = new Device(TunA, bindA ?? BindA, options, Time);
        B = new Device(TunB, bindB ?? BindB, options, Time);
        A.SetPrivateKey(KeyA);
        B.SetPrivateKey(KeyB);
        if (bindA is null || bindB is null)
        {
            A.SetListenPort(51820);
            B.SetListenPort(51821);
        }

        PeerBOnA = A.AddPeer(X25519.PublicKey(KeyB));
        PeerAOnB = B.AddPeer(X25519.PublicKey(KeyA));
        A.AllowedIps.Insert(IPNetwork.Parse("10.0.0.2/32"), PeerBOnA);
        A.AllowedIps.Insert(IPNetwork.Parse("fd00::2/128"), PeerBOnA);
        B.AllowedIps.Insert(IPNetwork.Parse("10.0.0.1/32"), PeerAOnB);
        B.AllowedIps.Insert(IPNetwork.Parse("fd00::1/128"), PeerAOnB);
        PeerBOnA.SetEndpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:51821")));
        PeerAOnB.SetEndpoint(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:51820")));
        if (up)
        {
            A.Up();
            B.Up();
        }
    }

    public TimeProvider Time { get; }

    public FakeTimeProvider Fake => (FakeTimeProvider)Time;

    public InMemoryNetwork Network { get; }

    public List<(Endpoint Source, Endpoint Destination, byte[] Bytes)> Wire { get; } = [];

    public Key KeyA { get; }

    public Key KeyB { get; }

    public InMemoryTun TunA { get; }

    public InMemoryTun TunB { get; }

    public InMemoryBind BindA { get; }

    public InMemoryBind BindB { get; }

    public Device A { get; }

    public Device B { get; }

    public Peer PeerBOnA { get; }

    public Peer PeerAOnB { get; }

    /// <summary>
    /// How long a real-time wait gives the devices' threads before the test fails: only a safety net.
    /// On a clock that stands still nothing is ever retransmitted, so a wait shorter than the longest
    /// stall of a loaded machine (over 10 s seen with load averages of 20-40 on 2 cores) fails a test
    /// whose packets were merely late.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Messages of <paramref name="type"/> seen on the wire from <paramref name="from"/> so far.</summary>
    public int CountOnWire(MessageType type, Device from, int? length = null)
    {
        var port = from.Bind.Port;
        lock (Wire)
        {
            return Wire.Count(w => w.Source.Port == port && MessageLayout.ReadType(w.Bytes) == type && (length is null || w.Bytes.Length == length));
        }
    }

    public byte[]? LastOnWire(MessageType type, Device from)
    {
        var port = from.Bind.Port;
        lock (Wire)
        {
            return Wire.LastOrDefault(w => w.Source.Port == port && MessageLayout.ReadType(w.Bytes) == type).Bytes;
        }
    }

    /// <summary>Injects a packet at A's host side and returns what B's host receives (null on timeout).</summary>
    public static byte[]? Carry(InMemoryTun from, InMemoryTun to, byte[] packet, TimeSpan? timeout = null)
    {
        from.Inject(packet);
        return Receive(to, timeout ?? Patience);
    }

    public static byte[]? Receive(InMemoryTun tun, TimeSpan timeout)
    {
        var buffers = new[] { new PacketBuffer() };
        var n = tun.Delivered.Dequeue(buffers, 0, timeout);
        return n == 0 ? null : buffers[0].Packet.ToArray();
    }

    /// <summary>Waits (on the real clock) until <paramref name="condition"/> holds; fails the test otherwise.</summary>
    public static void WaitFor(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            Thread.Sleep(5);
        }
    }

    /// <summary>Waits until both devices have handled every datagram sent to them, replies included.</summary>
    public void Settle()
    {
        WaitFor(() => BindA.Delivered == A.ReceivedSettled && BindB.Delivered == B.ReceivedSettled, "the devices to handle what was sent");
    }

    /// <summary>Moves the fake clock in steps, letting the packet threads react after each, as real time would.</summary>
    public void AdvanceSettled(TimeSpan total, TimeSpan? step = null)
    {
        var s = step ?? TimeSpan.FromMilliseconds(500);
        Settle();
        while (total > TimeSpan.Zero)
        {
            var d = total < s ? total : s;
            Fake.Advance(d);
            total -= d;
            Settle();
        }
    }

    public void Dispose()
    {
        A.Dispose();
        B.Dispose();
    }
}
