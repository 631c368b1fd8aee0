using System.Net;

namespace Trellis.Relay.Server;

internal enum GateResult
{
    Admitted,
    TooManyClients,
    TooManyFromAddress,
}

/// <summary>Counts open connections, in all and per remote address (IPv6 per /64), against the flood bounds.</summary>
internal sealed class ConnectionGate(int maxConnections, int maxPerAddress)
{
    private readonly Lock _gate = new();

    // guarded by _gate
    private readonly Dictionary<AddressBucket, int> _perAddress = [];
    private int _total;

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    public GateResult TryEnter(IPAddress? address)
    {
        lock (_gate)
        {
            if (_total >= maxConnections)
            {
                return GateResult.TooManyClients;
            }

            if (address is not null)
            {
                var bucket = AddressBucket.For(address);
                _perAddress.TryGetValue(bucket, out var count);
                if (count >= maxPerAddress)
                {
                    return GateResult.TooManyFromAddress;
                }

                _perAddress[bucket] = count + 1;
            }

            _total++;
            return GateResult.Admitted;
        }
    }

    public void Exit(IPAddress? address)
    {
        lock (_gate)
        {
            _total--;
            if (address is null)
            {
                return;
            }

            var bucket = AddressBucket.For(address);
            if (_perAddress.TryGetValue(bucket, out var count))
            {
                if (count <= 1)
                {
                    _perAddress.Remove(bucket);
                }
                else
                {
                    _perAddress[bucket] = count - 1;
                }
            }
        }
    }
}
