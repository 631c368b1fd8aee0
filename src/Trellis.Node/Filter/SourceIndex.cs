namespace Trellis.Node.Filter;

/// <summary>
/// Which rules name a source address, found with one binary search: the address space of one family
/// is cut at every edge of every rule's source prefixes, and each piece carries the set of rules
/// whose sources cover it (a bitmap of <see cref="Words"/> words per piece).
/// </summary>
internal sealed class SourceIndex
{
    private readonly UInt128[] _starts;
    private readonly ulong[] _rules;

    /// <param name="sources">Per rule, its source ranges in this family.</param>
    /// <param name="last">The family's highest address.</param>
    public SourceIndex(IReadOnlyList<IReadOnlyList<AddressRange>> sources, UInt128 last)
    {
        var edges = new List<UInt128> { UInt128.Zero };
        foreach (var ranges in sources)
        {
            foreach (var range in ranges)
            {
                edges.Add(range.First);
                if (range.Last != last)
                {
                    edges.Add(range.Last + 1);
                }
            }
        }

        edges.Sort();
        _starts = [.. edges.Distinct()];
        Words = Math.Max(1, (sources.Count + 63) / 64);
        _rules = new ulong[_starts.Length * Words];
        for (var rule = 0; rule < sources.Count; rule++)
        {
            foreach (var range in sources[rule])
            {
                for (var piece = Array.BinarySearch(_starts, range.First); piece < _starts.Length && _starts[piece] <= range.Last; piece++)
                {
                    _rules[(piece * Words) + (rule >> 6)] |= 1UL << (rule & 63);
                }
            }
        }
    }

    public int Words { get; }

    /// <summary>The bitmap of rules whose sources contain <paramref name="address"/>.</summary>
    public ReadOnlySpan<ulong> RulesFor(UInt128 address)
    {
        // The last piece starting at or below the address; piece 0 starts at zero, so there is one.
        var low = 0;
        var high = _starts.Length - 1;
        while (low < high)
        {
            var middle = (low + high + 1) >> 1;
            if (_starts[middle] <= address)
            {
                low = middle;
            }
            else
            {
                high = middle - 1;
            }
        }

        return _rules.AsSpan(low * Words, Words);
    }
}
