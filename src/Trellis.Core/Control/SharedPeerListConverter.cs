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
