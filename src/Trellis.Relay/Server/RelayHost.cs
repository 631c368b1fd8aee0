using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Trellis.Relay.Protocol;

namespace Trellis.Relay.Server;

/// <summary>
/// A relay on its own: Kestrel on one address (HTTP, or HTTPS with a certificate) serving
/// <see cref="RelayProtocol.DefaultPath"/> and a plain-text /health. For a standalone relay, tests
/// and benchmarks; the control server maps the relay into its own host instead.
/// </summary>
public sealed class RelayHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RelayHost(WebApplication app, RelayServer server, Uri url)
    {
        _app = app;
        Server = server;
        Url = url;
    }

    public RelayServer Server { get; }

    /// <summary>The address bound (port 0 resolved), e.g. http://127.0.0.1:41234/.</summary>
    public Uri Url { get; }

    /// <summary>What clients connect to.</summary>
    public Uri RelayUrl => new(Url, RelayProtocol.DefaultPath);

    /// <param name="listen">http://address:port or https://address:port (address: an IP, 0.0.0.0 or [::]).</param>
    public static async Task<RelayHost> StartAsync(
        RelayServerOptions options,
        string listen = "http://127.0.0.1:0",
        X509Certificate2? certificate = null,
        TimeProvider? time = null,
        Action<ILoggingBuilder>? logging = null,
        CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Services.AddRelayBuffers();
        builder.Logging.ClearProviders();
        if (logging is not null)
        {
            logging(builder.Logging);
        }

        var uri = new Uri(listen);
        if (uri.Scheme == Uri.UriSchemeHttps && certificate is null)
        {
            throw new ArgumentException("an https relay needs a certificate", nameof(certificate));
        }

        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var address = uri.Host is "0.0.0.0" or "*" ? IPAddress.Any : uri.Host == "[::]" ? IPAddress.IPv6Any : IPAddress.Parse(uri.Host.Trim('[', ']'));
            kestrel.Listen(address, uri.Port, l =>
            {
                if (uri.Scheme == Uri.UriSchemeHttps)
                {
                    l.UseHttps(certificate!);
                }
            });
        });

        var app = builder.Build();
        var server = new RelayServer(options, time, app.Services.GetRequiredService<ILoggerFactory>());
        app.MapRelay(RelayProtocol.DefaultPath, server);
        app.MapGet("/health", () => server.IsShuttingDown ? Results.StatusCode(503) : Results.Text(server.Health.Length == 0 ? "ok\n" : server.Health + "\n"));
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new RelayHost(app, server, new Uri(app.Urls.First()));
    }

    /// <summary>Stops: clients are told Restarting and disconnected, mesh links closed.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await Server.DisposeAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
