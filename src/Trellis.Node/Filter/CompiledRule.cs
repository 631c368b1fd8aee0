namespace Trellis.Node.Filter;

/// <summary>
/// One filter rule within one address family, as the data path checks it: a 256-bit set of IP
/// protocol numbers and a run of <see cref="DestinationRange"/>s in the family's shared array.
/// Its sources live in the family's <see cref="SourceIndex"/>.
/// </summary>
internal readonly struct CompiledRule
{
    private readonly ulong _protocols0;
    private readonly ulong _protocols1;
    private readonly ulong _protocols2;
    private readonly ulong _protocols3;

    public CompiledRule(IEnumerable<int> protocols, int firstDestination, int destinationCount)
    {
        foreach (var protocol in protocols)
        {
            var bit = 1UL << (protocol & 63);
            switch (protocol >> 6)
            {
                case 0: _protocols0 |= bit; break;
                case 1: _protocols1 |= bit; break;
                case 2: _protocols2 |= bit; break;
                default: _protocols3 |= bit; break;
            }
        }

        FirstDestination = firstDestination;
        DestinationCount = destinationCount;
    }

    public int FirstDestination { get; }

    public int DestinationCount { get; }

    public bool AllowsProtocol(byte protocol)
    {
        var word = (protocol >> 6) switch
        {
            0 => _protocols0,
            1 => _protocols1,
            2 => _protocols2,
            _ => _protocols3,
        };
        return (word & (1UL << (protocol & 63))) != 0;
    }
}

/// <summary>A destination of a rule: a prefix as a range, and the ports allowed there (TCP, UDP, SCTP only).</summary>
internal readonly record struct DestinationRange(UInt128 First, UInt128 Last, ushort FirstPort, ushort LastPort);
