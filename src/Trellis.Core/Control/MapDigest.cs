using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;

namespace Trellis.Core.Control;

/// <summary>
/// Digests of what a map holds, for resuming a map session (<see cref="MapResume"/>): the first 8
/// bytes of SHA-256 over an entry's JSON as the control protocol writes it. The node hashes the
/// entries it holds, the server the entries it would send; equal digests mean equal entries (a
/// collision needs 2^64 tries, and only the node whose map it is could gain or lose by one). A
/// node of another build that writes an entry differently only costs that entry being sent again.
/// </summary>
public static class MapDigest
{
    /// <summary>One peer in <see cref="MapResume.Peers"/>: its id and its digest, 8 bytes each.</summary>
    public const int RecordSize = 16;

    /// <summary>The digest of a peer entry, from the JSON a full map or delta carries.</summary>
    public static ulong Of(PeerInfo peer) => Hash(SharedPeerListConverter.JsonOf(peer));

    /// <summary>As <see cref="Of"/>, keeping the entry's JSON beside it for the maps that will copy it (the server's side).</summary>
    public static ulong OfShared(PeerInfo peer) => Hash(SharedPeerListConverter.SharedJsonOf(peer));

    /// <summary>The digest of what a full map carries and a delta cannot change: the overlay prefixes and the names settings.</summary>
    public static ulong OfSettings(IReadOnlyList<string> overlayPrefixes, DnsConfig? dns)
    {
        ArgumentNullException.ThrowIfNull(overlayPrefixes);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            JsonSerializer.Serialize(writer, overlayPrefixes, ControlJsonContext.Default.IReadOnlyListString);
            if (dns is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                JsonSerializer.Serialize(writer, dns, ControlJsonContext.Default.DnsConfig);
            }

            writer.WriteEndArray();
        }

        return Hash(buffer.WrittenSpan);
    }

    /// <summary>The resume request for a map holding <paramref name="peers"/> and these settings.</summary>
    public static MapResume Resume(IReadOnlyCollection<PeerInfo> peers, IReadOnlyList<string> overlayPrefixes, DnsConfig? dns)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var records = new byte[peers.Count * RecordSize];
        var at = 0;
        foreach (var peer in peers)
        {
            BinaryPrimitives.WriteInt64LittleEndian(records.AsSpan(at), peer.Id);
            BinaryPrimitives.WriteUInt64LittleEndian(records.AsSpan(at + 8), Of(peer));
            at += RecordSize;
        }

        return new MapResume { Peers = Convert.ToBase64String(records), Settings = OfSettings(overlayPrefixes, dns) };
    }

    /// <summary>
    /// Reads <see cref="MapResume.Peers"/>: false for text that is not base64 of whole records or
    /// that names a peer twice (the caller then sends a full map).
    /// </summary>
    public static bool TryRead(string peers, out Dictionary<long, ulong> digests)
    {
        ArgumentNullException.ThrowIfNull(peers);
        digests = [];

        // The node's message is already bounded (1 MiB by default), so this buffer is too.
        var bytes = ArrayPool<byte>.Shared.Rent(peers.Length / 4 * 3 + 3);
        try
        {
            if (!Convert.TryFromBase64String(peers, bytes, out var length) || length % RecordSize != 0)
            {
                return false;
            }

            digests.EnsureCapacity(length / RecordSize);
            for (var at = 0; at < length; at += RecordSize)
            {
                var id = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(at));
                if (!digests.TryAdd(id, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(at + 8))))
                {
                    return false;
                }
            }

            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private static ulong Hash(ReadOnlySpan<byte> json)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(json, hash);
        return BinaryPrimitives.ReadUInt64LittleEndian(hash);
    }
}
