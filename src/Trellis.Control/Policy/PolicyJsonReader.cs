using System.Text;
using System.Text.Json;

namespace Trellis.Control.Policy;

/// <summary>
/// Reads HuJSON (JSON with // and /* */ comments and trailing commas) into <see cref="PolicyValue"/>s that
/// remember their line and column. System.Text.Json skips the comments and accepts the trailing commas
/// itself, so positions are those of the text the person wrote; the size is checked before any parsing.
/// </summary>
internal static class PolicyJsonReader
{
    /// <summary>Deeper than any policy needs (four levels), shallow enough that a hostile text cannot exhaust the stack.</summary>
    private const int MaxDepth = 16;

    private static readonly JsonReaderOptions Options = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        MaxDepth = MaxDepth,
    };

    public static PolicyValue Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);

        // A char is at least one UTF-8 byte, so the length alone refuses a huge text without counting it.
        var size = text.Length > PolicyLimits.MaxPolicyBytes ? (long)text.Length : Encoding.UTF8.GetByteCount(text);
        if (size > PolicyLimits.MaxPolicyBytes)
        {
            throw new PolicyException(PolicyLimits.TooLarge(size));
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            throw new PolicyException("the policy is empty: write a JSON object such as {\"acls\": [...]}, or remove the policy to let every node reach every other");
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var positions = new TextPositions(bytes);
        var reader = new Utf8JsonReader(bytes, Options);
        var started = false;
        try
        {
            started = reader.Read();
            var root = ReadValue(ref reader, positions);
            if (reader.Read())
            {
                var (line, column) = positions.At(reader.TokenStartIndex);
                throw new PolicyException("text after the end of the policy object: the policy is one JSON object", line, column);
            }

            return root;
        }
        catch (JsonException) when (!started && OnlyComments(bytes))
        {
            throw new PolicyException("the policy holds only comments: write a JSON object such as {\"acls\": [...]}");
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = positions.Column(line, e.BytePositionInLine ?? 0);
            throw new PolicyException($"not valid HuJSON: {Describe(e)}", line, column);
        }
    }

    private static bool OnlyComments(byte[] bytes)
    {
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Allow });
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.Comment)
                {
                    return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static PolicyValue ReadValue(ref Utf8JsonReader reader, TextPositions positions)
    {
        var (line, column) = positions.At(reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
                return ReadObject(ref reader, positions, line, column);
            case JsonTokenType.StartArray:
                var items = new List<PolicyValue>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    items.Add(ReadValue(ref reader, positions));
                }

                return new PolicyValue(PolicyValueKind.Array, line, column, items: items);
            case JsonTokenType.String:
                return new PolicyValue(PolicyValueKind.String, line, column, reader.GetString() ?? string.Empty);
            case JsonTokenType.Number:
                return new PolicyValue(PolicyValueKind.Number, line, column, Encoding.UTF8.GetString(reader.ValueSpan));
            case JsonTokenType.True:
            case JsonTokenType.False:
                return new PolicyValue(PolicyValueKind.Boolean, line, column, reader.TokenType == JsonTokenType.True ? "true" : "false");
            default:
                return new PolicyValue(PolicyValueKind.Null, line, column, "null");
        }
    }

    private static PolicyValue ReadObject(ref Utf8JsonReader reader, TextPositions positions, int line, int column)
    {
        var members = new List<PolicyMember>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var (nameLine, nameColumn) = positions.At(reader.TokenStartIndex);
            var name = reader.GetString() ?? string.Empty;
            if (!seen.Add(name))
            {
                throw new PolicyException($"\"{name}\" appears twice in the same object: keep one", nameLine, nameColumn);
            }

            reader.Read();
            members.Add(new PolicyMember(name, nameLine, nameColumn, ReadValue(ref reader, positions)));
        }

        return new PolicyValue(PolicyValueKind.Object, line, column, members: members);
    }

    /// <summary>The reader's message ends with its own position in bytes; ours in characters replaces it.</summary>
    private static string Describe(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd('.', ' ');
    }

    /// <summary>Byte offsets to 1-based lines and columns counted in characters.</summary>
    private sealed class TextPositions
    {
        private readonly byte[] _bytes;
        private readonly List<int> _lineStarts = [0];

        public TextPositions(byte[] bytes)
        {
            _bytes = bytes;
            for (var i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == (byte)'\n')
                {
                    _lineStarts.Add(i + 1);
                }
            }
        }

        public (int Line, int Column) At(long offset)
        {
            var index = _lineStarts.BinarySearch((int)offset);
            var line = index >= 0 ? index : ~index - 1;
            return (line + 1, Column(line + 1, offset - _lineStarts[line]));
        }

        public int Column(int line, long byteInLine)
        {
            if (line < 1 || line > _lineStarts.Count)
            {
                return 1;
            }

            var start = _lineStarts[line - 1];
            var length = (int)Math.Clamp(byteInLine, 0, _bytes.Length - start);
            return Encoding.UTF8.GetCharCount(_bytes, start, length) + 1;
        }
    }
}
