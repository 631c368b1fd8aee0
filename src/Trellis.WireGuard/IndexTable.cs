using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Trellis.WireGuard;

/// <summary>
/// Maps our random 32-bit session indices (the receiver field of incoming messages) to the peer and,
/// once the handshake completes, the keypair. Lookups run per packet and allocate nothing.
/// </summary>
internal sealed class IndexTable
{
    private readonly ConcurrentDictionary<uint, Entry> _entries = new();

    public sealed class Entry(Peer peer)
    {
        public Peer Peer { get; } = peer;

        public Keypair? Keypair { get; set; }
    }

    /// <summary>A fresh unused index for <paramref name="peer"/>'s pending handshake.</summary>
    public uint NewIndexForHandshake(Peer peer)
    {
        var entry = new Entry(peer);
        while (true)
        {
            var index = (uint)RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
            if (index != 0 && _entries.TryAdd(index, entry))
            {
                return index;
            }
        }
    }

    public void SwapToKeypair(uint index, Keypair keypair)
    {
        if (_entries.TryGetValue(index, out var entry))
        {
            entry.Keypair = keypair;
        }
    }

    public Entry? Lookup(uint index) => _entries.TryGetValue(index, out var entry) ? entry : null;

    public void Delete(uint index) => _entries.TryRemove(index, out _);
}
