using System.Buffers.Binary;
using System.Net;

namespace Trellis.WireGuard.Tests;

public sealed class AllowedIpsTests
{
    private sealed class Peer(string name)
    {
        public string Name { get; } = name;

        public override string ToString() => Name;
    }

    private static byte[] V4(byte a, byte b, byte c, byte d) => [a, b, c, d];

    private static byte[] V6(uint a, uint b, uint c, uint d)
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, a);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), b);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), c);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(12), d);
        return bytes;
    }

    // Known-answer cases of the kernel's allowedips self-test, as ported by wireguard-go
    // (device/allowedips_test.go, TestTrieIPv4).
    [Fact]
    public void Kernel_selftest_IPv4()
    {
        Peer a = new("a"), b = new("b"), c = new("c"), d = new("d"), e = new("e"), g = new("g"), h = new("h");
        var t = new AllowedIps<Peer>();

        t.Insert(V4(192, 168, 4, 0), 24, a);
        t.Insert(V4(192, 168, 4, 4), 32, b);
        t.Insert(V4(192, 168, 0, 0), 16, c);
        t.Insert(V4(192, 95, 5, 64), 27, d);
        t.Insert(V4(192, 95, 5, 65), 27, c);    // same /27 after masking: c replaces d
        t.Insert(V4(0, 0, 0, 0), 0, e);
        t.Insert(V4(64, 15, 112, 0), 20, g);
        t.Insert(V4(64, 15, 123, 211), 25, h);
        t.Insert(V4(10, 0, 0, 0), 25, a);
        t.Insert(V4(10, 0, 0, 128), 25, b);
        t.Insert(V4(10, 1, 0, 0), 30, a);
        t.Insert(V4(10, 1, 0, 4), 30, b);
        t.Insert(V4(10, 1, 0, 8), 29, c);
        t.Insert(V4(10, 1, 0, 16), 29, d);

        Assert.Same(a, t.Lookup(V4(192, 168, 4, 20)));
        Assert.Same(a, t.Lookup(V4(192, 168, 4, 0)));
        Assert.Same(b, t.Lookup(V4(192, 168, 4, 4)));
        Assert.Same(c, t.Lookup(V4(192, 168, 200, 182)));
        Assert.Same(c, t.Lookup(V4(192, 95, 5, 68)));
        Assert.Same(e, t.Lookup(V4(192, 95, 5, 96)));
        Assert.Same(g, t.Lookup(V4(64, 15, 116, 26)));
        Assert.Same(g, t.Lookup(V4(64, 15, 127, 3)));

        t.Insert(V4(1, 0, 0, 0), 32, a);
        t.Insert(V4(64, 0, 0, 0), 32, a);
        t.Insert(V4(128, 0, 0, 0), 32, a);
        t.Insert(V4(192, 0, 0, 0), 32, a);
        t.Insert(V4(255, 0, 0, 0), 32, a);

        Assert.Same(a, t.Lookup(V4(1, 0, 0, 0)));
        Assert.Same(a, t.Lookup(V4(64, 0, 0, 0)));
        Assert.Same(a, t.Lookup(V4(128, 0, 0, 0)));
        Assert.Same(a, t.Lookup(V4(192, 0, 0, 0)));
        Assert.Same(a, t.Lookup(V4(255, 0, 0, 0)));

        t.RemoveByValue(a);

        Assert.NotSame(a, t.Lookup(V4(1, 0, 0, 0)));
        Assert.NotSame(a, t.Lookup(V4(64, 0, 0, 0)));
        Assert.NotSame(a, t.Lookup(V4(128, 0, 0, 0)));
        Assert.NotSame(a, t.Lookup(V4(192, 0, 0, 0)));
        Assert.NotSame(a, t.Lookup(V4(255, 0, 0, 0)));

        foreach (var p in new[] { a, b, c, d, e, g, h })
        {
            t.RemoveByValue(p);
        }

        Assert.Equal(0, t.Count);
        Assert.Null(t.Lookup(V4(192, 168, 4, 4)));
        Assert.Null(t.Lookup(V4(0, 0, 0, 0)));

        t.Insert(V4(192, 168, 0, 0), 16, a);
        t.Insert(V4(192, 168, 0, 0), 24, a);
        t.RemoveByValue(a);
        Assert.Null(t.Lookup(V4(192, 168, 0, 1)));
    }

    // TestTrieIPv6 of wireguard-go (from the kernel self-test).
    [Fact]
    public void Kernel_selftest_IPv6()
    {
        Peer a = new("a"), b = new("b"), c = new("c"), d = new("d"), e = new("e"), f = new("f"), g = new("g"), h = new("h");
        var t = new AllowedIps<Peer>();

        t.Insert(V6(0x26075300, 0x60006b00, 0, 0xc05f0543), 128, d);
        t.Insert(V6(0x26075300, 0x60006b00, 0, 0), 64, c);
        t.Insert(V6(0, 0, 0, 0), 0, e);
        t.Insert(V6(0, 0, 0, 0), 0, f);
        t.Insert(V6(0x24046800, 0, 0, 0), 32, g);
        t.Insert(V6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 64, h);
        t.Insert(V6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef), 128, a);
        t.Insert(V6(0x24446800, 0x40e40800, 0xdeaebeef, 0xdefbeef), 128, c);
        t.Insert(V6(0x24446800, 0xf0e40800, 0xeeaebeef, 0), 98, b);

        Assert.Same(d, t.Lookup(V6(0x26075300, 0x60006b00, 0, 0xc05f0543)));
        Assert.Same(c, t.Lookup(V6(0x26075300, 0x60006b00, 0, 0xc02e01ee)));
        Assert.Same(f, t.Lookup(V6(0x26075300, 0x60006b01, 0, 0)));
        Assert.Same(g, t.Lookup(V6(0x24046800, 0x40040806, 0, 0x1006)));
        Assert.Same(g, t.Lookup(V6(0x24046800, 0x40040806, 0x1234, 0x5678)));
        Assert.Same(f, t.Lookup(V6(0x240467ff, 0x40040806, 0x1234, 0x5678)));
        Assert.Same(f, t.Lookup(V6(0x24046801, 0x40040806, 0x1234, 0x5678)));
        Assert.Same(h, t.Lookup(V6(0x24046800, 0x40040800, 0x1234, 0x5678)));
        Assert.Same(h, t.Lookup(V6(0x24046800, 0x40040800, 0, 0)));
        Assert.Same(h, t.Lookup(V6(0x24046800, 0x40040800, 0x10101010, 0x10101010)));
        Assert.Same(a, t.Lookup(V6(0x24046800, 0x40040800, 0xdeadbeef, 0xdeadbeef)));
        Assert.Empty(t.EntriesFor(e));  // replaced by f
    }

    [Fact]
    public void Default_routes_and_full_length_prefixes()
    {
        Peer any4 = new("any4"), any6 = new("any6"), host4 = new("host4"), host6 = new("host6");
        var t = new AllowedIps<Peer>();
        t.Insert(V4(0, 0, 0, 0), 0, any4);
        t.Insert(new byte[16], 0, any6);
        t.Insert(V4(255, 255, 255, 255), 32, host4);
        var all = Enumerable.Repeat((byte)0xff, 16).ToArray();
        t.Insert(all, 128, host6);

        Assert.Same(any4, t.Lookup(V4(1, 2, 3, 4)));
        Assert.Same(host4, t.Lookup(V4(255, 255, 255, 255)));
        Assert.Same(any4, t.Lookup(V4(255, 255, 255, 254)));
        Assert.Same(host6, t.Lookup(all));
        all[15] = 0xfe;
        Assert.Same(any6, t.Lookup(all));
        Assert.Same(any6, t.Lookup(new byte[16]));

        // The families are separate tables.
        Assert.True(t.Remove(new byte[16], 0, any6));
        Assert.Null(t.Lookup(all));
        Assert.Same(any4, t.Lookup(V4(0, 0, 0, 0)));
    }

    [Fact]
    public void Host_bits_are_masked_and_reinsert_replaces_the_owner()
    {
        Peer a = new("a"), b = new("b");
        var t = new AllowedIps<Peer>();
        t.Insert(V4(10, 1, 2, 3), 8, a);
        Assert.Equal([(IPAddress.Parse("10.0.0.0"), 8)], t.EntriesFor(a));
        Assert.Same(a, t.Lookup(V4(10, 200, 0, 1)));

        t.Insert(V4(10, 9, 9, 9), 8, b);
        Assert.Same(b, t.Lookup(V4(10, 200, 0, 1)));
        Assert.Empty(t.EntriesFor(a));
        Assert.Equal([(IPAddress.Parse("10.0.0.0"), 8)], t.EntriesFor(b));
        Assert.Equal(1, t.Count);

        Assert.False(t.Remove(V4(10, 0, 0, 0), 8, a));       // not the owner
        Assert.Same(b, t.Lookup(V4(10, 0, 0, 1)));
        Assert.False(t.Remove(V4(10, 0, 0, 0), 9, b));       // no such prefix
        Assert.True(t.Remove(V4(10, 255, 255, 255), 8, b));  // host bits ignored
        Assert.False(t.Remove(V4(10, 0, 0, 0), 8, b));
        Assert.Null(t.Lookup(V4(10, 0, 0, 1)));
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Owners_are_compared_by_reference()
    {
        var t = new AllowedIps<string>();
        var x = new string('x', 3);
        var y = new string('x', 3);
        t.Insert(V4(10, 0, 0, 0), 8, x);
        Assert.False(t.Remove(V4(10, 0, 0, 0), 8, y));
        Assert.Empty(t.EntriesFor(y));
        t.RemoveByValue(y);
        Assert.Same(x, t.Lookup(V4(10, 0, 0, 1)));
    }

    [Fact]
    public void EntriesFor_lists_in_insertion_order_and_a_reinsert_moves_to_the_end()
    {
        Peer a = new("a"), b = new("b");
        var t = new AllowedIps<Peer>();
        t.Insert(IPNetwork.Parse("192.168.0.0/16"), a);
        t.Insert(IPNetwork.Parse("fd00::/8"), a);
        t.Insert(IPNetwork.Parse("10.0.0.0/8"), a);
        t.Insert(IPNetwork.Parse("10.1.0.0/16"), b);
        t.Insert(IPNetwork.Parse("2001:db8::1/128"), a);
        t.Insert(IPNetwork.Parse("0.0.0.0/0"), a);

        Assert.Equal(
            [
                (IPAddress.Parse("192.168.0.0"), 16),
                (IPAddress.Parse("fd00::"), 8),
                (IPAddress.Parse("10.0.0.0"), 8),
                (IPAddress.Parse("2001:db8::1"), 128),
                (IPAddress.Parse("0.0.0.0"), 0),
            ],
            t.EntriesFor(a));

        t.Insert(IPNetwork.Parse("fd00::/8"), a);              // moves to the end
        Assert.True(t.Remove(IPNetwork.Parse("10.0.0.0/8"), a));
        Assert.Equal(
            [
                IPNetwork.Parse("192.168.0.0/16"),
                IPNetwork.Parse("2001:db8::1/128"),
                IPNetwork.Parse("0.0.0.0/0"),
                IPNetwork.Parse("fd00::/8"),
            ],
            t.NetworksFor(a));
        Assert.Equal([IPNetwork.Parse("10.1.0.0/16")], t.NetworksFor(b));

        Assert.Same(b, t.Lookup(IPAddress.Parse("10.1.2.3")));
        Assert.Same(a, t.Lookup(IPAddress.Parse("10.2.2.3")));
        Assert.Same(a, t.Lookup(IPAddress.Parse("fd12::1")));
        Assert.Null(t.Lookup(IPAddress.Parse("fe80::1")));

        t.Clear();
        Assert.Empty(t.EntriesFor(a));
        Assert.Null(t.Lookup(IPAddress.Parse("10.1.2.3")));
        Assert.Equal(0, t.Count);
    }

    [Fact]
    public void Invalid_arguments_are_rejected()
    {
        var t = new AllowedIps<Peer>();
        var p = new Peer("p");
        Assert.Throws<ArgumentException>(() => t.Insert(new byte[4], 33, p));
        Assert.Throws<ArgumentException>(() => t.Insert(new byte[4], -1, p));
        Assert.Throws<ArgumentException>(() => t.Insert(new byte[16], 129, p));
        Assert.Throws<ArgumentException>(() => t.Insert(new byte[5], 8, p));
        Assert.Throws<ArgumentException>(() => t.Insert([], 0, p));
        Assert.Throws<ArgumentException>(() => t.Remove(new byte[4], 40, p));
        Assert.Throws<ArgumentException>(() => t.Remove(new byte[15], 8, p));
        Assert.Throws<ArgumentException>(() => t.Lookup(new byte[6]));
        Assert.Throws<ArgumentNullException>(() => t.Insert(new byte[4], 0, null!));
        var ex = Assert.Throws<ArgumentException>(() => t.Insert(new byte[4], 33, p));
        Assert.Contains("33", ex.Message, StringComparison.Ordinal);
        Assert.Equal("cidr", ex.ParamName);
        Assert.Equal(0, t.Count);
    }

    private sealed record RefEntry(byte[] Key, int Cidr, Peer Owner);

    /// <summary>The naive model: a list in insertion order, longest match by linear scan.</summary>
    private sealed class Reference
    {
        public List<RefEntry> Entries { get; } = [];

        private static byte[] Mask(byte[] address, int cidr)
        {
            var masked = (byte[])address.Clone();
            for (var bit = cidr; bit < masked.Length * 8; bit++)
            {
                masked[bit / 8] &= (byte)~(0x80 >> (bit % 8));
            }

            return masked;
        }

        private int IndexOf(byte[] key, int cidr) =>
            Entries.FindIndex(e => e.Cidr == cidr && e.Key.AsSpan().SequenceEqual(key));

        public void Insert(byte[] address, int cidr, Peer owner)
        {
            var key = Mask(address, cidr);
            var i = IndexOf(key, cidr);
            if (i >= 0)
            {
                Entries.RemoveAt(i);
            }

            Entries.Add(new RefEntry(key, cidr, owner));
        }

        public bool Remove(byte[] address, int cidr, Peer owner)
        {
            var i = IndexOf(Mask(address, cidr), cidr);
            if (i < 0 || !ReferenceEquals(Entries[i].Owner, owner))
            {
                return false;
            }

            Entries.RemoveAt(i);
            return true;
        }

        public void RemoveByValue(Peer owner) => Entries.RemoveAll(e => ReferenceEquals(e.Owner, owner));

        public Peer? Lookup(byte[] address)
        {
            RefEntry? best = null;
            foreach (var e in Entries)
            {
                if (e.Key.Length == address.Length && e.Cidr >= (best?.Cidr ?? -1) && Covers(e, address))
                {
                    best = e;
                }
            }

            return best?.Owner;
        }

        private static bool Covers(RefEntry e, byte[] address)
        {
            var whole = e.Cidr / 8;
            if (!address.AsSpan(0, whole).SequenceEqual(e.Key.AsSpan(0, whole)))
            {
                return false;
            }

            var rest = e.Cidr % 8;
            var mask = (byte)(0xff << (8 - rest));
            return rest == 0 || (address[whole] & mask) == e.Key[whole];
        }

        public List<(IPAddress, int)> EntriesFor(Peer owner) =>
            Entries.Where(e => ReferenceEquals(e.Owner, owner)).Select(e => (new IPAddress(e.Key), e.Cidr)).ToList();
    }

    /// <summary>
    /// Random prefixes clustered on a few bases so that they overlap and nest, with every
    /// prefix length from /0 to the full length.
    /// </summary>
    private static byte[] RandomAddress(Random rng, byte[][] bases)
    {
        var address = (byte[])bases[rng.Next(bases.Length)].Clone();
        // Flip a few random bits, more often deep ones, so neighbours share long prefixes.
        var flips = rng.Next(4);
        for (var i = 0; i < flips; i++)
        {
            var bit = rng.Next(address.Length * 8);
            address[bit / 8] ^= (byte)(0x80 >> (bit % 8));
        }

        if (rng.Next(8) == 0)
        {
            rng.NextBytes(address);
        }

        return address;
    }

    private static void AssertSameAsReference(AllowedIps<Peer> table, Reference reference, Random rng, byte[][] bases, Peer[] peers)
    {
        var probes = new List<byte[]>();
        for (var i = 0; i < 3000; i++)
        {
            probes.Add(RandomAddress(rng, bases));
        }

        // Also probe every stored prefix's first address and its last address.
        foreach (var e in reference.Entries)
        {
            probes.Add(e.Key);
            var last = (byte[])e.Key.Clone();
            for (var bit = e.Cidr; bit < last.Length * 8; bit++)
            {
                last[bit / 8] |= (byte)(0x80 >> (bit % 8));
            }

            probes.Add(last);
        }

        foreach (var probe in probes)
        {
            var expected = reference.Lookup(probe);
            var actual = table.Lookup(probe);
            Assert.True(ReferenceEquals(expected, actual),
                $"lookup {new IPAddress(probe)}: expected {expected?.Name ?? "null"}, got {actual?.Name ?? "null"}");
        }

        foreach (var peer in peers)
        {
            Assert.Equal(reference.EntriesFor(peer), table.EntriesFor(peer));
        }

        Assert.Equal(reference.Entries.Count, table.Count);
    }

    [Theory]
    [InlineData(4, 1)]
    [InlineData(16, 2)]
    [InlineData(4, 3)]
    [InlineData(16, 4)]
    public void Matches_a_naive_reference(int length, int seed)
    {
        var rng = new Random(seed);
        var peers = Enumerable.Range(0, 24).Select(i => new Peer("p" + i)).ToArray();
        var bases = new byte[6][];
        for (var i = 0; i < bases.Length; i++)
        {
            bases[i] = new byte[length];
            rng.NextBytes(bases[i]);
        }

        var table = new AllowedIps<Peer>();
        var reference = new Reference();
        var maxBits = length * 8;

        // Bias the prefix length towards the ends (/0 and full length) as well as uniform.
        int RandomCidr() => rng.Next(10) switch
        {
            0 => 0,
            1 => maxBits,
            2 => maxBits - rng.Next(4),
            _ => rng.Next(maxBits + 1),
        };

        // Phase 1: thousands of inserts, some re-inserting an existing prefix for another owner.
        for (var i = 0; i < 3000; i++)
        {
            byte[] address;
            int cidr;
            if (i > 0 && rng.Next(10) == 0)
            {
                var existing = reference.Entries[rng.Next(reference.Entries.Count)];
                address = existing.Key;
                cidr = existing.Cidr;
            }
            else
            {
                address = RandomAddress(rng, bases);
                cidr = RandomCidr();
            }

            var peer = peers[rng.Next(peers.Length)];
            table.Insert(address, cidr, peer);
            reference.Insert(address, cidr, peer);
        }

        AssertSameAsReference(table, reference, rng, bases, peers);

        // Phase 2: removals, by the right owner, the wrong owner, and of absent prefixes.
        for (var i = 0; i < 1500; i++)
        {
            byte[] address;
            int cidr;
            Peer peer;
            switch (rng.Next(3))
            {
                case 0 when reference.Entries.Count > 0:
                    var right = reference.Entries[rng.Next(reference.Entries.Count)];
                    (address, cidr, peer) = (right.Key, right.Cidr, right.Owner);
                    break;
                case 1 when reference.Entries.Count > 0:
                    var wrong = reference.Entries[rng.Next(reference.Entries.Count)];
                    (address, cidr, peer) = (wrong.Key, wrong.Cidr, peers[rng.Next(peers.Length)]);
                    break;
                default:
                    (address, cidr, peer) = (RandomAddress(rng, bases), RandomCidr(), peers[rng.Next(peers.Length)]);
                    break;
            }

            Assert.Equal(reference.Remove(address, cidr, peer), table.Remove(address, cidr, peer));
        }

        AssertSameAsReference(table, reference, rng, bases, peers);

        // Phase 3: drop a third of the owners wholesale, then insert some more.
        foreach (var peer in peers.Where((_, i) => i % 3 == 0))
        {
            table.RemoveByValue(peer);
            reference.RemoveByValue(peer);
        }

        AssertSameAsReference(table, reference, rng, bases, peers);

        for (var i = 0; i < 500; i++)
        {
            var address = RandomAddress(rng, bases);
            var cidr = RandomCidr();
            var peer = peers[rng.Next(peers.Length)];
            table.Insert(address, cidr, peer);
            reference.Insert(address, cidr, peer);
        }

        AssertSameAsReference(table, reference, rng, bases, peers);

        // Phase 4: removing everything leaves nothing behind.
        foreach (var peer in peers)
        {
            table.RemoveByValue(peer);
        }

        Assert.Equal(0, table.Count);
        Assert.Null(table.Lookup(RandomAddress(rng, bases)));
        Assert.Null(table.Lookup(new byte[length]));
    }

    [Fact]
    public void Lookup_does_not_allocate()
    {
        var rng = new Random(42);
        var peers = Enumerable.Range(0, 50).Select(i => new Peer("p" + i)).ToArray();
        var t = new AllowedIps<Peer>();
        var buffer = new byte[16];
        for (var i = 0; i < 2000; i++)
        {
            rng.NextBytes(buffer);
            t.Insert(buffer.AsSpan(0, 4), rng.Next(33), peers[rng.Next(peers.Length)]);
            t.Insert(buffer, rng.Next(129), peers[rng.Next(peers.Length)]);
        }

        // Probes: 4-byte and 16-byte addresses packed in one array.
        const int Probes = 1000;
        var probes = new byte[Probes * 20];
        rng.NextBytes(probes);
        var hits = 0;

        void Run(int count)
        {
            for (var i = 0; i < count; i++)
            {
                var at = i % Probes * 20;
                if (t.Lookup(probes.AsSpan(at, 4)) is not null)
                {
                    hits++;
                }

                if (t.Lookup(probes.AsSpan(at + 4, 16)) is not null)
                {
                    hits++;
                }
            }
        }

        Run(20_000);   // warm-up (tiered JIT)
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run(100_000);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.True(hits > 0);

        var address = IPAddress.Parse("2001:db8::1");
        for (var i = 0; i < 1000; i++)
        {
            t.Lookup(address);
        }

        before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            t.Lookup(address);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public async Task Lookups_run_concurrently_with_mutations()
    {
        Peer stable = new("stable"), b = new("b"), c = new("c");
        var t = new AllowedIps<Peer>();
        t.Insert(V4(10, 0, 0, 0), 8, stable);
        t.Insert(IPNetwork.Parse("fd00::/8"), stable);

        using var stop = new CancellationTokenSource();
        var failures = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            byte[] outside = [10, 2, 3, 4], inside = [10, 1, 2, 3];
            var v6 = IPAddress.Parse("fd00::1").GetAddressBytes();
            while (!stop.IsCancellationRequested)
            {
                var x = t.Lookup(inside);
                if (!ReferenceEquals(t.Lookup(outside), stable) || !ReferenceEquals(t.Lookup(v6), stable)
                    || !(ReferenceEquals(x, stable) || ReferenceEquals(x, b) || ReferenceEquals(x, c)))
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        var rng = new Random(7);
        var deadline = DateTime.UtcNow.AddMilliseconds(300);
        while (DateTime.UtcNow < deadline)
        {
            var owner = rng.Next(2) == 0 ? b : c;
            t.Insert(V4(10, 1, 0, 0), 16, owner);
            t.Insert(V4(10, 1, (byte)rng.Next(256), 0), 24, owner);
            t.Insert(V4(10, 3, 0, 0), 16, owner);
            t.Remove(V4(10, 1, 0, 0), 16, b);
            t.RemoveByValue(c);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.Equal(0, failures);
    }
}
