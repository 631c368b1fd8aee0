using System.Buffers.Binary;
using System.Net;

namespace Trellis.WireGuard;

/// <summary>
/// WireGuard's cryptokey routing table: a longest-prefix-match map from IPv4 and IPv6 prefixes
/// to an owner (normally a peer). The data path calls <see cref="Lookup(ReadOnlySpan{byte})"/>
/// for every packet (destination address on send, inner source address on receive).
/// </summary>
/// <remarks>
/// <para>
/// <b>Structure.</b> One path-compressed binary trie per address family. Every node holds a
/// masked prefix and either an owner, two children, or both (nodes with neither are never
/// kept), so a lookup visits at most one node per distinct prefix length on the address's path
/// and does a constant number of 128-bit operations per node. Addresses are held as
/// <see cref="UInt128"/> aligned to the most significant bit (IPv4 in the top 32 bits).
/// </para>
/// <para>
/// <b>Thread safety (copy-on-write).</b> Trie nodes are immutable. A mutation, serialised by a
/// private lock, builds new nodes along the path it changes (path copying: O(depth) nodes, the
/// rest of the trie is shared) and then publishes the new root with a single volatile write.
/// <see cref="Lookup(ReadOnlySpan{byte})"/> takes no lock: it reads the current root once and
/// walks an immutable snapshot, so any number of data-path threads can look up concurrently with
/// configuration changes, never block, and always see either the whole of a mutation or none of
/// it. <see cref="RemoveByValue"/> publishes all of its removals at once. The old nodes are
/// reclaimed by the GC once no lookup still walks them, which is what RCU does in the kernel.
/// A reader-writer lock was not chosen because it costs interlocked operations on every lookup
/// and makes readers wait behind writers.
/// </para>
/// <para>
/// <b>Owners</b> are compared by reference identity, never by <see cref="object.Equals(object)"/>.
/// </para>
/// <para>
/// <b>Order of <see cref="EntriesFor(T)"/>.</b> Prefixes are listed in the order they were
/// inserted for that owner; inserting a prefix again (for the same or another owner) moves it
/// to the end of its owner's list. This is what the Linux kernel and wireguard-go keep per peer,
/// and so what <c>wg show</c> prints.
/// </para>
/// </remarks>
/// <typeparam name="T">The owner type; compared by reference.</typeparam>
public sealed partial class AllowedIps<T> where T : class
{
    private const int IPv4Bits = 32;
    private const int IPv6Bits = 128;

    // Mutated only under _gate; read lock-free by lookups (Volatile.Read).
    private Node? _rootV4;
    private Node? _rootV6;

    private readonly Lock _gate = new();

    // Bookkeeping for the configuration side, guarded by _gate.
    private readonly Dictionary<PrefixKey, Entry> _byPrefix = new();
    private readonly Dictionary<T, LinkedList<PrefixKey>> _byValue = new(ReferenceEqualityComparer.Instance);

    /// <summary>Number of prefixes in the table (both families).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _byPrefix.Count;
            }
        }
    }

    /// <summary>
    /// Returns the owner of the longest prefix containing <paramref name="address"/>, or
    /// <see langword="null"/> if none does. Lock-free and allocation-free.
    /// </summary>
    /// <param name="address">4 bytes (IPv4) or 16 bytes (IPv6), network byte order.</param>
    /// <exception cref="ArgumentException">The address is neither 4 nor 16 bytes long.</exception>
    public T? Lookup(ReadOnlySpan<byte> address)
    {
        UInt128 key;
        Node? node;
        if (address.Length == 4)
        {
            key = (UInt128)BinaryPrimitives.ReadUInt32BigEndian(address) << (IPv6Bits - IPv4Bits);
            node = Volatile.Read(ref _rootV4);
        }
        else if (address.Length == 16)
        {
            key = BinaryPrimitives.ReadUInt128BigEndian(address);
            node = Volatile.Read(ref _rootV6);
        }
        else
        {
            throw BadAddressLength(address.Length, nameof(address));
        }

        T? best = null;
        while (node is not null && ((key ^ node.Key) & node.Mask) == UInt128.Zero)
        {
            if (node.Value is not null)
            {
                best = node.Value;
            }

            // ChildBit is zero for a full-length node, which has no children: Left is null.
            node = (key & node.ChildBit) != UInt128.Zero ? node.Right : node.Left;
        }

        return best;
    }

    /// <summary>
    /// Returns the owner of the longest prefix containing <paramref name="address"/>, or
    /// <see langword="null"/>. Allocation-free. The scope id of an IPv6 address is ignored.
    /// </summary>
    public T? Lookup(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException("The address could not be written as 4 or 16 bytes.", nameof(address));
        }

        return Lookup(bytes[..written]);
    }

    /// <summary>
    /// Makes <paramref name="value"/> the owner of <paramref name="prefix"/>/<paramref name="cidr"/>.
    /// Host bits beyond <paramref name="cidr"/> are ignored (masked off). If the prefix already has
    /// an owner, it is replaced, and the prefix moves to the end of <paramref name="value"/>'s
    /// <see cref="EntriesFor(T)"/> list.
    /// </summary>
    /// <param name="prefix">4 bytes (IPv4) or 16 bytes (IPv6), network byte order.</param>
    /// <param name="cidr">Prefix length: 0-32 for IPv4, 0-128 for IPv6.</param>
    /// <param name="value">The new owner.</param>
    /// <exception cref="ArgumentException">Bad address length or prefix length.</exception>
    public void Insert(ReadOnlySpan<byte> prefix, int cidr, T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var key = MakeKey(prefix, cidr, nameof(prefix), nameof(cidr));

        lock (_gate)
        {
            if (_byPrefix.TryGetValue(key, out var old))
            {
                Unlink(old);
            }

            if (!_byValue.TryGetValue(value, out var list))
            {
                list = new LinkedList<PrefixKey>();
                _byValue.Add(value, list);
            }

            _byPrefix[key] = new Entry(value, list.AddLast(key));

            ref var root = ref RootOf(key.IsV6);
            Volatile.Write(ref root, Node.Insert(root, key.Bits, key.Cidr, value));
        }
    }

    /// <summary>Inserts <paramref name="network"/> for <paramref name="value"/>; see <see cref="Insert(ReadOnlySpan{byte}, int, T)"/>.</summary>
    public void Insert(IPNetwork network, T value)
    {
        Span<byte> bytes = stackalloc byte[16];
        Insert(NetworkBytes(network, bytes), network.PrefixLength, value);
    }

    /// <summary>
    /// Removes <paramref name="prefix"/>/<paramref name="cidr"/> (host bits ignored) if and only if
    /// it is currently owned by <paramref name="value"/>.
    /// </summary>
    /// <returns><see langword="true"/> if the prefix was removed.</returns>
    /// <exception cref="ArgumentException">Bad address length or prefix length.</exception>
    public bool Remove(ReadOnlySpan<byte> prefix, int cidr, T value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var key = MakeKey(prefix, cidr, nameof(prefix), nameof(cidr));

        lock (_gate)
        {
            if (!_byPrefix.TryGetValue(key, out var entry) || !ReferenceEquals(entry.Owner, value))
            {
                return false;
            }

            Unlink(entry);
            _byPrefix.Remove(key);

            ref var root = ref RootOf(key.IsV6);
            Volatile.Write(ref root, Node.Remove(root, key.Bits, key.Cidr));
            return true;
        }
    }

    /// <summary>Removes <paramref name="network"/> if it is owned by <paramref name="value"/>.</summary>
    public bool Remove(IPNetwork network, T value)
    {
        Span<byte> bytes = stackalloc byte[16];
        return Remove(NetworkBytes(network, bytes), network.PrefixLength, value);
    }

    /// <summary>Removes every prefix owned by <paramref name="value"/>, atomically for lookups.</summary>
    public void RemoveByValue(T value)
    {
        ArgumentNullException.ThrowIfNull(value);

        lock (_gate)
        {
            if (!_byValue.Remove(value, out var list))
            {
                return;
            }

            var v4 = _rootV4;
            var v6 = _rootV6;
            foreach (var key in list)
            {
                _byPrefix.Remove(key);
                if (key.IsV6)
                {
                    v6 = Node.Remove(v6, key.Bits, key.Cidr);
                }
                else
                {
                    v4 = Node.Remove(v4, key.Bits, key.Cidr);
                }
            }

            Volatile.Write(ref _rootV4, v4);
            Volatile.Write(ref _rootV6, v6);
        }
    }

    /// <summary>Removes every prefix.</summary>
    public void Clear()
    {
        lock (_gate)
        {
            _byPrefix.Clear();
            _byValue.Clear();
            Volatile.Write(ref _rootV4, null);
            Volatile.Write(ref _rootV6, null);
        }
    }

    /// <summary>
    /// The prefixes owned by <paramref name="value"/>, with host bits cleared, in insertion order
    /// (a re-inserted prefix counts from its latest insertion). Empty if it owns none. The list is
    /// a snapshot: later mutations do not change it.
    /// </summary>
    public IReadOnlyList<(IPAddress Address, int Cidr)> EntriesFor(T value)
    {
        ArgumentNullException.ThrowIfNull(value);

        lock (_gate)
        {
            if (!_byValue.TryGetValue(value, out var list))
            {
                return [];
            }

            var result = new (IPAddress Address, int Cidr)[list.Count];
            var i = 0;
            Span<byte> bytes = stackalloc byte[16];
            foreach (var key in list)
            {
                BinaryPrimitives.WriteUInt128BigEndian(bytes, key.Bits);
                var address = new IPAddress(key.IsV6 ? bytes : bytes[..4]);
                result[i++] = (address, key.Cidr);
            }

            return result;
        }
    }

    /// <summary><see cref="EntriesFor(T)"/> as <see cref="IPNetwork"/> values.</summary>
    public IReadOnlyList<IPNetwork> NetworksFor(T value)
    {
        var entries = EntriesFor(value);
        var result = new IPNetwork[entries.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new IPNetwork(entries[i].Address, entries[i].Cidr);
        }

        return result;
    }

    private ref Node? RootOf(bool isV6) => ref isV6 ? ref _rootV6 : ref _rootV4;

    private void Unlink(Entry entry)
    {
        var list = entry.Node.List!;
        list.Remove(entry.Node);
        if (list.Count == 0)
        {
            _byValue.Remove(entry.Owner);
        }
    }

    private static PrefixKey MakeKey(ReadOnlySpan<byte> prefix, int cidr, string prefixName, string cidrName)
    {
        UInt128 bits;
        int maxBits;
        if (prefix.Length == 4)
        {
            bits = (UInt128)BinaryPrimitives.ReadUInt32BigEndian(prefix) << (IPv6Bits - IPv4Bits);
            maxBits = IPv4Bits;
        }
        else if (prefix.Length == 16)
        {
            bits = BinaryPrimitives.ReadUInt128BigEndian(prefix);
            maxBits = IPv6Bits;
        }
        else
        {
            throw BadAddressLength(prefix.Length, prefixName);
        }

        if ((uint)cidr > (uint)maxBits)
        {
            throw new ArgumentException(
                $"Prefix length {cidr} is out of range for an IPv{(maxBits == IPv4Bits ? 4 : 6)} prefix (0-{maxBits}).",
                cidrName);
        }

        return new PrefixKey(maxBits == IPv6Bits, bits & Node.MaskOf(cidr), cidr);
    }

    private static ReadOnlySpan<byte> NetworkBytes(IPNetwork network, Span<byte> buffer)
    {
        if (network.BaseAddress is null || !network.BaseAddress.TryWriteBytes(buffer, out var written))
        {
            throw new ArgumentException("The network has no IPv4 or IPv6 base address.", nameof(network));
        }

        return buffer[..written];
    }

    private static ArgumentException BadAddressLength(int length, string paramName) =>
        new($"An address must be 4 bytes (IPv4) or 16 bytes (IPv6) long, not {length}.", paramName);

    /// <summary>A masked prefix: the address family, the bits aligned to bit 127, the length.</summary>
    private readonly record struct PrefixKey(bool IsV6, UInt128 Bits, int Cidr);

    /// <summary>The owner of a prefix and the prefix's place in that owner's ordered list.</summary>
    private readonly record struct Entry(T Owner, LinkedListNode<PrefixKey> Node);
}
