namespace Trellis.Core.Transport.InMemory;

/// <summary>An <see cref="IBind"/> on an <see cref="InMemoryNetwork"/>, at a fixed address.</summary>
public sealed class InMemoryBind : IBind
{
    private readonly InMemoryNetwork _network;
    private readonly UInt128 _address;
    private readonly object _lock = new();
    private Endpoint _local;
    private bool _open;

    internal InMemoryBind(InMemoryNetwork network, Endpoint address)
    {
        _network = network;
        _address = address.Address;
    }

    internal SlotQueue Incoming { get; } = new(1024, 4096);

    /// <summary>Datagrams queued for this bind so far.</summary>
    public long Delivered => Incoming.Enqueued;

    public int BatchSize => 32;

    public ushort Port
    {
        get
        {
            lock (_lock)
            {
                return _open ? _local.Port : (ushort)0;
            }
        }
    }

    public Endpoint LocalEndpoint
    {
        get
        {
            lock (_lock)
            {
                return _local;
            }
        }
    }

    public uint Mark { get; private set; }

    public ushort Open(ushort port)
    {
        lock (_lock)
        {
            CloseLocked();
            var p = _network.Register(this, _address, port);
            _local = new Endpoint(_address, p);
            _open = true;
            Incoming.Reopen();
            return p;
        }
    }

    public void SetMark(uint mark) => Mark = mark;

    public void Close()
    {
        lock (_lock)
        {
            CloseLocked();
        }
    }

    private void CloseLocked()
    {
        if (_open)
        {
            _network.Unregister(_local);
            _open = false;
        }

        Incoming.Close();
    }

    public int Receive(Span<PacketBuffer> packets) => Incoming.Dequeue(packets, 0);

    public void Send(ReadOnlySpan<PacketBuffer> packets)
    {
        Endpoint local;
        lock (_lock)
        {
            if (!_open)
            {
                return;
            }

            local = _local;
        }

        foreach (var p in packets)
        {
            _network.Deliver(local, p.Endpoint, p.Packet);
        }
    }

    public void Dispose() => Close();
}
