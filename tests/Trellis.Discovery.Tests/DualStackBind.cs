using System.Net;
using Trellis.Core.Transport;
using Trellis.Core.Transport.InMemory;

namespace Trellis.Discovery.Tests;

/// <summary>
/// A dual-stack socket on an <see cref="InMemoryNetwork"/>: an IPv4 and an IPv6 address on one port,
/// each datagram sent from the address of its destination's family, both received through one
/// <see cref="Receive"/> (a pump thread per address). Given a clock and a delay, its IPv6 datagrams
/// leave that much later on the clock (a detour on one family's route), so that family's round
/// trips take fake time.
/// </summary>
internal sealed class DualStackBind : IWakeableBind
{
    private readonly InMemoryBind _v4;
    private readonly InMemoryBind _v6;
    private readonly TimeProvider? _time;
    private readonly TimeSpan _v6Delay;
    private readonly PacketBuffer _delayed = new();
    private readonly Queue<(byte[] Data, Endpoint Source)> _queue = new();
    private readonly List<Thread> _pumps = [];
    private bool _open;
    private bool _wake;

    public DualStackBind(InMemoryNetwork network, string v4, string v6, TimeProvider? time = null, TimeSpan v6Delay = default)
    {
        _v4 = network.CreateBind(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(v4), 0)));
        _v6 = network.CreateBind(Endpoint.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(v6), 0)));
        _time = time;
        _v6Delay = v6Delay;
    }

    public Endpoint LocalV4 => _v4.LocalEndpoint;

    public Endpoint LocalV6 => _v6.LocalEndpoint;

    /// <summary>Datagrams queued for either address so far.</summary>
    public long Delivered => _v4.Delivered + _v6.Delivered;

    public int BatchSize => _v4.BatchSize;

    public ushort Port => _v4.Port;

    public ushort Open(ushort port)
    {
        var bound = _v4.Open(port);
        _v6.Open(bound);
        lock (_queue)
        {
            _open = true;
        }

        foreach (var inner in (InMemoryBind[])[_v4, _v6])
        {
            var pump = new Thread(() => Pump(inner)) { IsBackground = true, Name = "dual-stack pump" };
            _pumps.Add(pump);
            pump.Start();
        }

        return bound;
    }

    public void SetMark(uint mark)
    {
    }

    public void Close()
    {
        lock (_queue)
        {
            _open = false;
            Monitor.PulseAll(_queue);
        }

        _v4.Close();
        _v6.Close();
        foreach (var pump in _pumps)
        {
            pump.Join(TimeSpan.FromSeconds(5));
        }

        _pumps.Clear();
    }

    public int Receive(Span<PacketBuffer> packets)
    {
        lock (_queue)
        {
            while (_open && !_wake && _queue.Count == 0)
            {
                Monitor.Wait(_queue);
            }

            _wake = false;
            var n = 0;
            while (_open && n < packets.Length && _queue.TryDequeue(out var item))
            {
                item.Data.CopyTo(packets[n].Data);
                packets[n].Offset = 0;
                packets[n].Length = item.Data.Length;
                packets[n].Endpoint = item.Source;
                n++;
            }

            return n;
        }
    }

    public void Send(ReadOnlySpan<PacketBuffer> packets)
    {
        foreach (var p in packets)
        {
            if (!p.Endpoint.IsIPv4 && _time is { } time && _v6Delay > TimeSpan.Zero)
            {
                // A one-shot timer on the clock sends it on; the fake clock fires it when moved past.
                _ = time.CreateTimer(static s => ((Delayed)s!).Send(), new Delayed(this, p.Packet.ToArray(), p.Endpoint), _v6Delay, Timeout.InfiniteTimeSpan);
                continue;
            }

            (p.Endpoint.IsIPv4 ? _v4 : _v6).Send([p]);
        }
    }

    public void WakeReceiver()
    {
        lock (_queue)
        {
            _wake = true;
            Monitor.PulseAll(_queue);
        }
    }

    public void Dispose() => Close();

    private void Pump(InMemoryBind inner)
    {
        var batch = PacketBuffer.AllocateBatch(inner.BatchSize);
        int n;
        while ((n = inner.Receive(batch)) > 0)
        {
            lock (_queue)
            {
                for (var i = 0; i < n; i++)
                {
                    _queue.Enqueue((batch[i].Packet.ToArray(), batch[i].Endpoint));
                }

                Monitor.PulseAll(_queue);
            }
        }
    }

    /// <summary>An IPv6 datagram on its detour.</summary>
    private sealed class Delayed(DualStackBind bind, byte[] data, Endpoint to)
    {
        public void Send()
        {
            lock (bind._delayed)
            {
                data.CopyTo(bind._delayed.Data);
                bind._delayed.Offset = 0;
                bind._delayed.Length = data.Length;
                bind._delayed.Endpoint = to;
                bind._v6.Send([bind._delayed]);
            }
        }
    }
}
