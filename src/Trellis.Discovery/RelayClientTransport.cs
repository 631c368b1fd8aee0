using Trellis.Core.Keys;
using Trellis.Relay.Client;
using Trellis.Relay.Protocol;

namespace Trellis.Discovery;

/// <summary>The thin adapter over one <see cref="RelayClient"/>, which it owns: a pump hands its packets to the receiver.</summary>
public sealed class RelayClientTransport : IRelayTransport, IAsyncDisposable
{
    /// <summary>
    /// How long a batch's packet waits for room in a full send queue (the device's send stage waits,
    /// as it would on a full UDP socket buffer): a writer descheduled on a busy machine catches up in
    /// this time, and a stalled connection holds up the device's other sends once for this long, then
    /// its packets drop at once until it takes one again.
    /// </summary>
    internal static readonly TimeSpan QueueRoomWait = TimeSpan.FromMilliseconds(10);

    private readonly RelayClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private volatile RelayReceiver? _receiver;

    public RelayClientTransport(RelayClient client, int regionId)
    {
        _client = client;
        RegionId = regionId;
        _pump = Task.Run(PumpAsync);
    }

    public int RegionId { get; }

    public bool IsAvailable => _client.IsConnected;

    public bool TrySend(Key nodeKey, ReadOnlySpan<byte> packet) =>
        packet.Length <= RelayProtocol.MaxPacketSize && _client.TrySend(nodeKey, packet);

    public bool TryQueue(Key nodeKey, ReadOnlySpan<byte> packet) =>
        packet.Length <= RelayProtocol.MaxPacketSize && _client.TryQueue(nodeKey, packet, QueueRoomWait);

    public void Flush() => _client.Flush();

    public void SetReceiver(RelayReceiver? receiver) => _receiver = receiver;

    public void ExpectReply() => _client.ExpectReply();

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var packet in _client.Packets.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                using (packet)
                {
                    _receiver?.Invoke(packet.Source, packet.Span);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        _stop.Dispose();
        await _client.DisposeAsync().ConfigureAwait(false);
    }
}
