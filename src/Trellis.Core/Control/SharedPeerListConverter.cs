using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trellis.Core.Control;

/// <summary>
/// Writes a list of peers from each entry's JSON, serialized once per <see cref="PeerInfo"/> instance
/// and kept beside it while it lives. The server keeps one instance per node until that node changes,
/// so in a join storm each entry is serialized once and copied into every full map and delta that
/// carries it, instead of once per receiver (which made the storm's CPU grow with the square of the
/// mesh). Reading is the generated reader's, unchanged: the wire format is the same.
/// </summary>
public sealed class SharedPeerListConverter : JsonConverter<IReadOnlyList<PeerInfo>>
{
    private static readonly ConditionalWeakTable<PeerInfo, byte[]> Serialized = new();

    /// <summary>The JSON kept for <paramref name="peer"/>, if a list carrying it was written.</summary>
    internal static bool TryGetSerialized(PeerInfo peer, out byte[]? json) => Serialized.TryGetValue(peer, out json);

    /// <summary>
    /// The JSON of <paramref name="peer"/> as a list writes it: the kept copy, else written now and
    /// not kept (a node hashing its own map must not hold a second copy of every entry).
    /// </summary>
    internal static byte[] JsonOf(PeerInfo peer) =>
        Serialized.TryGetValue(peer, out var json) ? json : Serialize(peer);

    /// <summary>The JSON of <paramref name="peer"/>, kept beside it from now on (the server's entries, which full maps copy anyway).</summary>
    internal static byte[] SharedJsonOf(PeerInfo peer) => Serialized.GetValue(peer, Serialize);

    public override IReadOnlyList<PeerInfo>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonSerializer.Deserialize(ref reader, ControlJsonContext.Default.IReadOnlyListPeerInfo);

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<PeerInfo> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        foreach (var peer in value)
        {
            // Written by the same generated serializer moments ago: validating it again would cost what caching saves.
            writer.WriteRawValue(Serialized.GetValue(peer, Serialize), skipInputValidation: true);
        }

        writer.WriteEndArray();
    }

    private static byte[] Serialize(PeerInfo peer) => JsonSerializer.SerializeToUtf8Bytes(peer, ControlJsonContext.Default.PeerInfo);
}
