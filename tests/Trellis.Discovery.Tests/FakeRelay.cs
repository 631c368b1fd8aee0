using System.Collections.Concurrent;
using System.Threading.Channels;
using Trellis.Core.Keys;

namespace Trellis.Discovery.Tests;

/// <summary>An in-process relay: delivers asynchronously (like a real one) between <see cref="FakeRelayTransport"/>s.</summary>
internal sealed class FakeRelay
{
    private readonly ConcurrentDictionary<Key, FakeRelayTransport> _clients = new();

    public bool Up { get; set; } = true;

    public long Forwarded;

    // Packets accepted and not yet handed to their receiver.
    private long _inFlight;

    /// <summary>Nothing on its way: every packet forwarded so far has been handled by its receiver.</summary>
    public bool Quiet => Interlocked.Read(ref _inFlight) == 0;

    internal void Delivered() => Interlocked.Decrement(ref _inFlight);

    /// <summary>The connection <paramref name="nodeKey"/> holds here, if any.</summary>
    public FakeRelayTransport? ClientOf(Key nodeKey) => _clients.GetValueOrDefault(nodeKey);

    public FakeRelayTransport Connect(Key nodeKey, int region = 900)
    {
        var t = new FakeRelayTransport(this, nodeKey, region);
        _clients[nodeKey] = t;
        return t;
    }

    internal bool Forward(Key source, Key destination, ReadOnlySpan<byte> packet)
    {
        if (!Up || !_clients.TryGetValue(destination, out var to))
        {
            return false;
        }

        Interlocked.Increment(ref Forwarded);
        Interlocked.Increment(ref _inFlight);
        if (to.Inbox.Writer.TryWrite((source, packet.ToArray())))
        {
            return true;
        }

        Delivered();
        return false;
    }
}

internal sealed class FakeRelayTransport : IRelayTransport
{
    private readonly FakeRelay _relay;
    private readonly Key _self;
    private RelayReceiver? _receiver;

    public FakeRelayTransport(FakeRelay relay, Key self, int region)
    {
        _relay = relay;
        _self = self;
        RegionId = region;
        _ = Task.Run(PumpAsync);
    }

    public Channel<(Key, byte[])> Inbox { get; } = Channel.CreateUnbounded<(Key, byte[])>();

    public int RegionId { get; }

    public bool IsAvailable => _relay.Up;

    public bool TrySend(Key nodeKey, ReadOnlySpan<byte> packet) => _relay.Forward(_self, nodeKey, packet);

    // Packets of a batch wait here until Flush, as they wait for the real client's writer.
    private readonly List<(Key, byte[])> _batch = [];

    /// <summary>How often a batch was flushed here.</summary>
    public int Flushes;

    public bool TryQueue(Key nodeKey, ReadOnlySpan<byte> packet)
    {
        if (!_relay.Up)
        {
            return false;
        }

        lock (_batch)
        {
            _batch.Add((nodeKey, packet.ToArray()));
        }

        return true;
    }

    public void Flush()
    {
        Interlocked.Increment(ref Flushes);
        (Key, byte[])[] batch;
        lock (_batch)
        {
            batch = [.. _batch];
            _batch.Clear();
        }

        foreach (var (nodeKey, packet) in batch)
        {
            _relay.Forward(_self, nodeKey, packet);
        }
    }

    public void SetReceiver(RelayReceiver? receiver) => Volatile.Write(ref _receiver, receiver);

    /// <summary>How often a reply was said to be expected here.</summary>
    public int RepliesExpected;

    public void ExpectReply() => Interlocked.Increment(ref RepliesExpected);

    private async Task PumpAsync()
    {
        await foreach (var (source, data) in Inbox.Reader.ReadAllAsync())
        {
            Volatile.Read(ref _receiver)?.Invoke(source, data);
            _relay.Delivered();
        }
    }
}
