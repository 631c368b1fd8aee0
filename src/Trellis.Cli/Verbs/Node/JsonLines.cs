using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Trellis.Cli.Verbs.Node;

/// <summary>`--json` output of the node verbs: one compact JSON object per line, in the local API's own shape.</summary>
internal static class JsonLines
{
    public static void Write<T>(TextWriter output, T value, JsonTypeInfo<T> type)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false, Encoder = type.Options.Encoder }))
        {
            JsonSerializer.Serialize(writer, value, type);
        }

        output.WriteLine(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
    }
}
