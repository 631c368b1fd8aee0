using System.IO.Compression;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.ResponseCompression;
using Microsoft.Extensions.DependencyInjection;
using Trellis.Control.Admin;
using Trellis.Control.WebConsole;

namespace Trellis.Control.Server;

/// <summary>
/// Brotli or gzip for the node list and the console's own files only: at 5,000 nodes the list is
/// 3.3 MB of repetitive JSON, several times smaller compressed. Nothing that carries a secret (a new
/// auth or API key, a session) is compressed: compressing a secret beside text a client chooses is
/// what BREACH-style attacks read.
/// </summary>
internal static class ListCompression
{
    public static void AddListCompression(this IServiceCollection services)
    {
        services.AddResponseCompression(o =>
        {
            o.EnableForHttps = true; // safe here: only the secret-free responses below pass through it
            o.Providers.Add<BrotliCompressionProvider>();
            o.Providers.Add<GzipCompressionProvider>();
        });

        // The fastest levels: a list of 3.3 MB is served in milliseconds of CPU, not tens of them.
        services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
        services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Fastest);
    }

    public static void UseListCompression(this WebApplication app) =>
        app.UseWhen(IsCompressed, branch => branch.UseResponseCompression());

    private static readonly HashSet<string> Paths = new(StringComparer.Ordinal)
    {
        AdminApi.Prefix + "/nodes",
        ConsoleEndpoints.Path + "/",
        ConsoleEndpoints.Path + "/console.js",
        ConsoleEndpoints.Path + "/console.css",
    };

    // Exact paths: the console's session answer (which carries its CSRF token) and every key-making call stay uncompressed.
    private static bool IsCompressed(HttpContext context) =>
        HttpMethods.IsGet(context.Request.Method) && context.Request.Path.Value is { } path && Paths.Contains(path);
}
