using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Text;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;
using Trellis.Crypto;
using Trellis.WireGuard;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// A datagram into a running <see cref="Device"/>'s receive path, from the address of its one peer,
/// with which it holds a live session: demultiplexing, the handshake thread (mac1, cookies, Noise)
/// and the transport pipeline (open, replay, source checks). So that the fuzzer gets past the two
/// checks it cannot forge, the target writes the right mac1 into handshake messages of the right
/// size, and the session's receiver index into transport messages (unless the index is all ones).
/// The device must settle each datagram; one that does not within <see cref="SettleTimeout"/> is a hang.
/// </summary>
public static class WireGuardTarget
{
    // Generous: CI runs every test assembly at once on two busy cores (afl-fuzz has its own, tighter -t).
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(30);

    // Until the handshake completes, the peer's first packets wait or are lost: it is sent again this often.
    private static readonly TimeSpan PingInterval = TimeSpan.FromMilliseconds(100);

    // The in-memory network's slot: longer datagrams are dropped before the device sees them.
    private const int MaxDatagram = 4096;

    // Sessions expire after 180 s (RejectAfterTime); a fresh one is made well before.
    private static readonly TimeSpan SessionRenewal = TimeSpan.FromSeconds(120);

    private static readonly Endpoint DeviceAddress = Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:51820"));
    private static readonly Endpoint PeerAddress = Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.2:51821"));

    private static readonly Lock Gate = new();
    private static readonly InMemoryNetwork Network = new();
    private static readonly InMemoryBind DeviceBind = Network.CreateBind(DeviceAddress);
    private static readonly InMemoryTun DeviceTun = new("fuzz0");
    private static readonly Device Fuzzed = CreateFuzzed();
    private static readonly byte[] Mac1Key = ComputeMac1Key();
    private static readonly PacketBuffer[] Datagram = [new PacketBuffer { Endpoint = DeviceAddress }];

    private static InMemoryBind? _sender;
    private static uint _sessionIndex;
    private static long _sessionStarted;

    public static bool Run(ReadOnlySpan<byte> input)
    {
        lock (Gate)
        {
            var sender = EnsureSession();
            var buffer = Datagram[0];
            var length = Math.Min(input.Length, MaxDatagram);
            input[..length].CopyTo(buffer.Data);
            buffer.Offset = 0;
            buffer.Length = length;
            Aim(buffer.Packet);

            var refused = Refusals();
            var settled = Fuzzed.ReceivedSettled;
            var delivered = DeviceBind.Delivered;
            sender.Send(Datagram);
            if (DeviceBind.Delivered == delivered)
            {
                return false; // the in-memory network refused it (empty)
            }

            WaitUntil(() => Fuzzed.ReceivedSettled > settled, "handle a datagram");
            return Refusals() == refused;
        }
    }

    /// <summary>Datagrams the device has refused so far, for any reason.</summary>
    private static long Refusals()
    {
        var c = Fuzzed.Counters;
        return Interlocked.Read(ref c.MalformedPackets) + Interlocked.Read(ref c.UnknownReceiverIndex) + Interlocked.Read(ref c.DecryptionFailed)
               + Interlocked.Read(ref c.ExpiredKeypair) + Interlocked.Read(ref c.ReplayedPackets) + Interlocked.Read(ref c.SourceNotAllowed)
               + Interlocked.Read(ref c.HandshakeMac1Failed) + Interlocked.Read(ref c.HandshakeInvalid) + Interlocked.Read(ref c.HandshakeReplayed)
               + Interlocked.Read(ref c.HandshakeQueueFull) + Interlocked.Read(ref c.RateLimited) + Interlocked.Read(ref c.CookieRepliesSent);
    }

    private static void Aim(Span<byte> packet)
    {
        switch (MessageLayout.ReadType(packet))
        {
            case MessageType.Initiation when packet.Length == MessageLayout.InitiationSize:
            case MessageType.Response when packet.Length == MessageLayout.ResponseSize:
                var macAt = MessageLayout.Mac1Offset(packet.Length);
                Blake2s.Mac(packet.Slice(macAt, Blake2s.MacSize), Mac1Key, packet[..macAt]);
                break;
            case MessageType.Transport when packet.Length >= MessageLayout.TransportHeaderSize:
                var index = packet.Slice(MessageLayout.TransportReceiver, 4);
                if (BinaryPrimitives.ReadUInt32LittleEndian(index) != uint.MaxValue)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(index, _sessionIndex);
                }

                break;
        }
    }

    /// <summary>
    /// A sender at the peer's address, after a real handshake with a second device holding the peer's
    /// key, which then goes away. The fuzzed device initiates, so it never records a handshake
    /// timestamp from the peer, and the corpus's initiation (made when the seeds were written) is
    /// still fresh to it.
    /// </summary>
    private static InMemoryBind EnsureSession()
    {
        if (_sender is not null && Stopwatch.GetElapsedTime(_sessionStarted) < SessionRenewal)
        {
            return _sender;
        }

        _sender?.Dispose();
        _sender = null;
        using (var peer = new Device(new InMemoryTun("fuzz-peer"), Network.CreateBind(PeerAddress), new DeviceOptions { Workers = 1 }))
        {
            peer.SetPrivateKey(FuzzKeys.Remote);
            peer.SetListenPort(PeerAddress.Port);
            var toFuzzed = peer.AddPeer(FuzzKeys.LocalPublic);
            peer.AllowedIps.Insert(IPNetwork.Parse("10.0.0.1/32"), toFuzzed);
            toFuzzed.SetEndpoint(DeviceAddress);
            peer.Up();
            var fuzzedPeer = Fuzzed.Peers[0];
            var before = fuzzedPeer.CurrentKeypair;
            var ping = Ipv4Packet(from: "10.0.0.1", to: "10.0.0.2");
            var lastPing = 0L;
            WaitUntil(
                () =>
                {
                    if (fuzzedPeer.CurrentKeypair is { } k && k != before)
                    {
                        return true;
                    }

                    if (Stopwatch.GetElapsedTime(lastPing) > PingInterval)
                    {
                        DeviceTun.Inject(ping);
                        lastPing = Stopwatch.GetTimestamp();
                    }

                    return false;
                },
                "complete a handshake with its peer");
            _sessionIndex = fuzzedPeer.CurrentKeypair!.LocalIndex;
        }

        WaitUntil(() => Fuzzed.ReceivedSettled >= DeviceBind.Delivered, "settle the handshake's datagrams");
        _sender = Network.CreateBind(PeerAddress);
        _sender.Open(PeerAddress.Port);
        _sessionStarted = Stopwatch.GetTimestamp();
        return _sender;
    }

    private static Device CreateFuzzed()
    {
        var device = new Device(DeviceTun, DeviceBind, new DeviceOptions { Workers = 1 });
        device.SetPrivateKey(FuzzKeys.Local);
        device.SetListenPort(DeviceAddress.Port);
        var peer = device.AddPeer(FuzzKeys.RemotePublic);
        device.AllowedIps.Insert(IPNetwork.Parse("10.0.0.2/32"), peer);
        peer.SetEndpoint(PeerAddress);
        device.Up();
        return device;
    }

    private static byte[] ComputeMac1Key()
    {
        var key = new byte[Blake2s.HashSize];
        Span<byte> publicKey = stackalloc byte[32];
        FuzzKeys.LocalPublic.CopyTo(publicKey);
        Blake2s.Hash(key, Encoding.ASCII.GetBytes(Constants.LabelMac1), publicKey);
        return key;
    }

    /// <summary>A minimal IPv4 header.</summary>
    private static byte[] Ipv4Packet(string from, string to)
    {
        var packet = new byte[20];
        packet[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), 20);
        packet[8] = 64;
        packet[9] = 253; // experimental protocol: nothing inside to parse
        IPAddress.Parse(from).TryWriteBytes(packet.AsSpan(12), out _);
        IPAddress.Parse(to).TryWriteBytes(packet.AsSpan(16), out _);
        return packet;
    }

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var started = Stopwatch.GetTimestamp();
        var spinner = default(SpinWait);
        while (!condition())
        {
            if (Stopwatch.GetElapsedTime(started) > SettleTimeout)
            {
                throw new TimeoutException($"the WireGuard device did not {what} within {SettleTimeout.TotalSeconds} s");
            }

            spinner.SpinOnce();
        }
    }
}
