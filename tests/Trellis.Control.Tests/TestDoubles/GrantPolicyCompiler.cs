using System.Net;
using System.Text;
using System.Text.Json;
using Trellis.Control.Policy;

namespace Trellis.Control.Tests.TestDoubles;

/// <summary>
/// Compiles a small JSON-with-comments stand-in for the real format into a <see cref="GrantPolicy"/>:
/// {"acls":[{"src":"alice","dst":"tag:server"}], "tagOwners":{"tag:x":["alice"]},
/// "autoApprovers":{"routes":{"10.0.0.0/8":["tag:router"]}}}. Refuses bad syntax and unknown fields
/// with their line and column, as the real compiler does.
/// </summary>
internal sealed class GrantPolicyCompiler : IPolicyCompiler
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public int Compiled { get; private set; }

    public IAccessPolicy Compile(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, Options);
        }
        catch (JsonException e)
        {
            throw new PolicyException("not valid JSON", (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }

        using (document)
        {
            var grants = new List<(string, string)>();
            var owners = new Dictionary<string, IReadOnlyList<string>>();
            var approvers = new List<(IPNetwork, string)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "acls":
                        grants.AddRange(property.Value.EnumerateArray().Select(a => (a.GetProperty("src").GetString()!, a.GetProperty("dst").GetString()!)));
                        break;
                    case "tagOwners":
                        foreach (var tag in property.Value.EnumerateObject())
                        {
                            owners[tag.Name] = [.. tag.Value.EnumerateArray().Select(o => o.GetString()!)];
                        }

                        break;
                    case "autoApprovers":
                        foreach (var route in property.Value.GetProperty("routes").EnumerateObject())
                        {
                            approvers.AddRange(route.Value.EnumerateArray().Select(a => (IPNetwork.Parse(route.Name), a.GetString()!)));
                        }

                        break;
                    default:
                        var (line, column) = Position(text, property.Name);
                        throw new PolicyException($"unknown field \"{property.Name}\"", line, column);
                }
            }

            Compiled++;
            return new GrantPolicy(grants, owners, approvers);
        }
    }

    private static (int Line, int Column) Position(string text, string name)
    {
        var at = text.IndexOf('"' + name + '"', StringComparison.Ordinal);
        var before = text[..Math.Max(at, 0)];
        var line = before.Count(c => c == '\n') + 1;
        return (line, at - (before.LastIndexOf('\n') + 1) + 1);
    }

    /// <summary>Policy text granting each pair.</summary>
    public static string Text(params (string From, string To)[] grants)
    {
        var acls = new StringBuilder();
        foreach (var (from, to) in grants)
        {
            acls.Append($$"""{"src": "{{from}}", "dst": "{{to}}"},""");
        }

        return $$"""
            // a test policy
            {"acls": [{{acls}}]}
            """;
    }
}
