using System.Net;
using Microsoft.Extensions.Time.Testing;
using Trellis.Core.Transport;

namespace Trellis.WireGuard.Tests;

/// <summary>
/// Every protocol timer, on a fake clock: the packet threads are real, time is not, so a test
/// advances the clock and then waits for the event it expects rather than sleeping.
/// </summary>
public class TimerTests
{
    /// <summary>
    /// A session initiated by A and confirmed by A's data. Only A sends data, so only A's clock-driven
    /// rekeys can start a handshake: with time jumping ahead of the packet threads, a data-sending B
    /// could legitimately initiate first, and the test would be about a different initiator.
    /// </summary>
    private static DevicePair Established()
    {
        var pair = new DevicePair(new FakeTimeProvider(DateTimeOffset.Parse("2026-01-01T00:00:00Z")));
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        DevicePair.WaitFor(() => pair.PeerAOnB.CurrentKeypair is not null, "B to confirm the session");
        return pair;
    }

    private static bool IsKeepalive(byte[] b) => MessageLayout.ReadType(b) == MessageType.Transport && b.Length == MessageLayout.KeepaliveSize;

    private static int Keepalives(DevicePair pair, Device from)
    {
        lock (pair.Wire)
        {
            return pair.Wire.Count(w => w.Source.Port == from.Bind.Port && IsKeepalive(w.Bytes));
        }
    }

    [Fact]
    public void Handshake_is_retransmitted_every_rekey_timeout_and_abandoned_after_the_attempt_time()
    {
        using var pair = new DevicePair(new FakeTimeProvider());
        pair.Network.Drop = (_, _, _) => true; // B never answers
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Initiation, pair.A) == 1, "the first initiation");

        for (var attempt = 2; attempt <= 1 + Constants.MaxTimerHandshakes; attempt++)
        {
            pair.AdvanceSettled(TimeSpan.FromSeconds(4.9));
            Assert.Equal(attempt - 1, pair.CountOnWire(MessageType.Initiation, pair.A)); // not before RekeyTimeout
            pair.AdvanceSettled(TimeSpan.FromMilliseconds(450)); // past the 5 s + up to 333 ms jitter
            Assert.Equal(attempt, pair.CountOnWire(MessageType.Initiation, pair.A));
        }

        pair.AdvanceSettled(TimeSpan.FromSeconds(30));
        Assert.Equal(1 + Constants.MaxTimerHandshakes, pair.CountOnWire(MessageType.Initiation, pair.A));
        Assert.Equal(0, pair.PeerBOnA.StagedCount); // gave up: the waiting packet is dropped
    }

    [Fact]
    public void Initiator_rekeys_after_rekey_after_time_when_sending()
    {
        using var pair = Established();
        var first = pair.PeerBOnA.LastHandshake;
        pair.AdvanceSettled(Constants.RekeyAfterTime - TimeSpan.FromSeconds(1));
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.Equal(1, pair.CountOnWire(MessageType.Initiation, pair.A));

        pair.AdvanceSettled(TimeSpan.FromSeconds(2));
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Initiation, pair.A) == 2, "a rekey initiation");
        DevicePair.WaitFor(() => pair.PeerBOnA.LastHandshake > first, "the new session");
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1")));
    }

    [Fact]
    public void Initiator_rekeys_after_rekey_after_messages()
    {
        using var pair = Established();
        pair.AdvanceSettled(Constants.RekeyTimeout + TimeSpan.FromSeconds(1)); // initiations are at most one per RekeyTimeout
        pair.PeerBOnA.CurrentKeypair!.SetSendNonceForTest(Constants.RekeyAfterMessages + 1);
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Initiation, pair.A) == 2, "a rekey initiation");
    }

    [Fact]
    public void Keys_past_reject_after_messages_are_never_used()
    {
        using var pair = Established();
        var old = pair.PeerBOnA.CurrentKeypair!;
        pair.AdvanceSettled(Constants.RekeyTimeout + TimeSpan.FromSeconds(1));
        old.SetSendNonceForTest(Constants.RejectAfterMessages);
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.NotSame(old, pair.PeerBOnA.CurrentKeypair);
    }

    [Fact]
    public void Initiator_rekeys_once_when_receiving_under_keys_near_expiry()
    {
        using var pair = Established();
        pair.AdvanceSettled(Constants.RejectAfterTime - Constants.KeepaliveTimeout - Constants.RekeyTimeout + TimeSpan.FromSeconds(1));
        pair.Network.Drop = (_, _, b) => MessageLayout.ReadType(b) == MessageType.Initiation; // see the attempt, but keep the old session
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1")));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Initiation, pair.A) == 2, "the receive-side rekey");
        Assert.NotNull(DevicePair.Carry(pair.TunB, pair.TunA, Packets.Build("10.0.0.2", "10.0.0.1")));
        Assert.Equal(2, pair.CountOnWire(MessageType.Initiation, pair.A)); // once, not per packet
    }

    [Fact]
    public void Passive_keepalive_follows_received_data_after_keepalive_timeout()
    {
        using var pair = Established();
        var before = Keepalives(pair, pair.B);
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        Assert.NotNull(DevicePair.Receive(pair.TunB, DevicePair.Patience));
        pair.AdvanceSettled(Constants.KeepaliveTimeout - TimeSpan.FromMilliseconds(100));
        Assert.Equal(before, Keepalives(pair, pair.B));
        pair.AdvanceSettled(TimeSpan.FromMilliseconds(200));
        string Dump()
        {
            lock (pair.Wire)
            {
                return string.Join("\n", pair.Wire.Select(w => $"{w.Source.Port}->{w.Destination.Port} type {w.Bytes[0]} len {w.Bytes.Length}"));
            }
        }

        Assert.True(before + 1 == Keepalives(pair, pair.B), $"before {before} now {Keepalives(pair, pair.B)} at {pair.Fake.GetUtcNow()}\n{Dump()}");
    }

    [Fact]
    public void No_answer_to_sent_data_starts_a_new_handshake()
    {
        using var pair = Established();
        pair.Network.Drop = (s, _, _) => s.Port == pair.B.Bind.Port; // B goes silent
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Transport, pair.A) >= 2, "the data to leave");
        pair.AdvanceSettled(Constants.KeepaliveTimeout + Constants.RekeyTimeout - TimeSpan.FromMilliseconds(100));
        Assert.Equal(1, pair.CountOnWire(MessageType.Initiation, pair.A));
        pair.AdvanceSettled(TimeSpan.FromMilliseconds(450));
        Assert.Equal(2, pair.CountOnWire(MessageType.Initiation, pair.A));
    }

    [Fact]
    public void Persistent_keepalive_is_sent_on_its_interval()
    {
        using var pair = Established();
        pair.AdvanceSettled(Constants.KeepaliveTimeout + TimeSpan.FromSeconds(1)); // B's passive keepalive has come and gone
        pair.PeerBOnA.SetPersistentKeepalive(25);
        DevicePair.WaitFor(() => Keepalives(pair, pair.A) >= 1, "the keepalive sent when it is turned on");
        var start = Keepalives(pair, pair.A);
        for (var i = 1; i <= 3; i++)
        {
            pair.AdvanceSettled(TimeSpan.FromSeconds(24.9));
            Assert.Equal(start + i - 1, Keepalives(pair, pair.A));
            pair.AdvanceSettled(TimeSpan.FromMilliseconds(200));
            Assert.Equal(start + i, Keepalives(pair, pair.A));
        }
    }

    [Fact]
    public void Key_material_is_zeroed_three_reject_periods_after_the_last_session()
    {
        using var pair = Established();
        Assert.NotNull(pair.PeerBOnA.CurrentKeypair);
        pair.Network.Drop = (_, _, _) => true;
        pair.AdvanceSettled(Constants.RejectAfterTime * 3 - TimeSpan.FromSeconds(1));
        Assert.NotNull(pair.PeerBOnA.CurrentKeypair);
        pair.AdvanceSettled(TimeSpan.FromSeconds(2));
        Assert.Null(pair.PeerBOnA.CurrentKeypair);
        Assert.Null(pair.PeerAOnB.CurrentKeypair);
    }

    [Fact]
    public void Responder_waits_for_key_confirmation_before_sending_with_new_keys()
    {
        using var pair = new DevicePair(new FakeTimeProvider());
        pair.Network.Drop = (s, _, b) => s.Port == pair.A.Bind.Port && MessageLayout.ReadType(b) == MessageType.Transport;
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Response, pair.B) == 1, "the response");
        Assert.Null(pair.PeerAOnB.CurrentKeypair); // the new keypair sits in "next" until A proves it has it

        pair.Network.Drop = null;
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.NotNull(pair.PeerAOnB.CurrentKeypair);
    }

    [Fact]
    public void A_session_older_than_reject_after_time_is_not_used()
    {
        using var pair = Established();
        var old = pair.PeerBOnA.CurrentKeypair;
        pair.AdvanceSettled(Constants.RejectAfterTime + TimeSpan.FromSeconds(1));
        Assert.NotNull(DevicePair.Carry(pair.TunA, pair.TunB, Packets.Build("10.0.0.1", "10.0.0.2")));
        Assert.NotSame(old, pair.PeerBOnA.CurrentKeypair);
        Assert.Equal(2, pair.CountOnWire(MessageType.Initiation, pair.A));
    }

    [Fact]
    public void Initiations_closer_than_the_flood_limit_are_ignored()
    {
        using var pair = new DevicePair(new FakeTimeProvider());
        pair.Network.Drop = (s, _, _) => s.Port == pair.B.Bind.Port;
        pair.TunA.Inject(Packets.Build("10.0.0.1", "10.0.0.2"));
        DevicePair.WaitFor(() => pair.CountOnWire(MessageType.Initiation, pair.A) == 1, "the initiation");
        var initiation = pair.LastOnWire(MessageType.Initiation, pair.A)!;
        DevicePair.WaitFor(() => pair.PeerAOnB.LastHandshake is null && pair.B.Counters.HandshakeReplayed == 0 && pair.CountOnWire(MessageType.Response, pair.B) == 1, "B's answer");

        // The same initiation again is a replay (timestamp not newer) and gets no answer.
        var replayer = pair.Network.CreateBind(Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.1:0")));
        replayer.Open(0);
        var buffer = new PacketBuffer { Endpoint = pair.BindB.LocalEndpoint, Length = initiation.Length };
        initiation.CopyTo(buffer.Data);
        replayer.Send([buffer]);
        DevicePair.WaitFor(() => Interlocked.Read(ref pair.B.Counters.HandshakeReplayed) == 1, "the replay to be refused");
        Assert.Equal(1, pair.CountOnWire(MessageType.Response, pair.B));
    }
}
