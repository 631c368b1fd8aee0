using System.Text.Json;

namespace Trellis.Control.AccessControl;

/// <summary>
/// How many rules ("acls" entries) a policy text holds, for the log and the API. HuJSON is JSON with
/// comments and trailing commas, which the JSON reader skips and accepts, so counting needs no
/// second parser; the compiler has already judged the text.
/// </summary>
public static class PolicyRules
{
    private static readonly JsonDocumentOptions HuJson = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>The number of "acls" entries; null when the text has no such list it can read.</summary>
    public static int? Count(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text, HuJson);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (string.Equals(property.Name, "acls", StringComparison.OrdinalIgnoreCase) && property.Value.ValueKind == JsonValueKind.Array)
                {
                    return property.Value.GetArrayLength();
                }
            }

            return 0; // a policy without "acls" grants nothing
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
