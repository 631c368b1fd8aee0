using System.Collections.Frozen;
using Microsoft.AspNetCore.Http;

namespace Trellis.Control.WebConsole;

/// <summary>
/// The console's page, script and style sheet, embedded in this assembly at build time: no files
/// to deploy beside the binary, no build step, nothing fetched from elsewhere.
/// </summary>
internal static class ConsoleAssets
{
    private static readonly FrozenDictionary<string, (byte[] Bytes, string ContentType)> Files = new Dictionary<string, (byte[], string)>
    {
        ["index.html"] = (Read("index.html"), "text/html; charset=utf-8"),
        ["console.js"] = (Read("console.js"), "text/javascript; charset=utf-8"),
        ["console.css"] = (Read("console.css"), "text/css; charset=utf-8"),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IResult Serve(HttpContext http, string name)
    {
        if (!Files.TryGetValue(name, out var file))
        {
            return Results.NotFound();
        }

        // The page runs only its own script and style, may not be framed, and sends no referrer with links.
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-cache";
        return Results.Bytes(file.Bytes, file.ContentType);
    }

    private static byte[] Read(string name)
    {
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream("Trellis.Control.WebConsole." + name)
            ?? throw new InvalidOperationException($"the console's {name} is not embedded in this build");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
