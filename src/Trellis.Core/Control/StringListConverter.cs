using System.Text.Json;
using System.Text.Json.Serialization;

namespace Trellis.Core.Control;

/// <summary>
/// A list of strings as a JSON array: an <see cref="EncodedStringList"/> is written from its stored
/// bytes, any other list item by item; reading gives an ordinary list.
/// </summary>
public sealed class StringListConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("expected an array of strings");
        }

        var items = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            items.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("expected a string"));
        }

        return items;
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStartArray();
        if (value is EncodedStringList encoded)
        {
            // Each piece is several complete string values; the writer puts the comma between pieces.
            foreach (var piece in encoded.Pieces)
            {
                writer.WriteRawValue(piece, skipInputValidation: true);
            }
        }
        else
        {
            foreach (var item in value)
            {
                writer.WriteStringValue(item);
            }
        }

        writer.WriteEndArray();
    }
}
