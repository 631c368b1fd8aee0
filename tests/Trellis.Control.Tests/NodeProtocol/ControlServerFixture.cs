using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Policy;
using Trellis.Control.Server;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.NodeProtocol;

/// <summary>A real `trellis server` on 127.0.0.1 with a fresh SQLite data directory.</summary>
internal sealed class ControlServerFixture : IAsyncDisposable
{
    private ControlServerFixture(string dataDirectory, ControlServerHost host, ServerOptions options, FakeTimeProvider clock)
    {
        Clock = clock;
        DataDirectory = dataDirectory;
        Host = host;
        Options = options;
    }

    public string DataDirectory { get; }

    /// <summary>The store's and mesh's clock (the network runs on real time).</summary>
    public FakeTimeProvider Clock { get; }

    public ControlServerHost Host { get; private set; }

    public ServerOptions Options { get; }

    public Uri Url => Host.Url;

    public ControlStore Store => Host.Service.Store;

    public static async Task<ControlServerFixture> StartAsync(Func<ServerOptions, ServerOptions>? configure = null, IPolicyCompiler? policyCompiler = null)
    {
        var dir = Directory.CreateTempSubdirectory("trellis-server-").FullName;
        // STUN off unless a test asks: parallel servers would clash on one UDP port.
        var options = new ServerOptions { Listen = "http://127.0.0.1:0", DataDirectory = dir, StunPort = 0 };
        options = configure?.Invoke(options) ?? options;
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        try
        {
            var host = await ControlServerHost.StartAsync(options, clock, l => l.SetMinimumLevel(LogLevel.Warning), policyCompiler: policyCompiler);
            return new ControlServerFixture(dir, host, options, clock);
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
    }

    /// <summary>Stops the server and starts a new one on the same data directory and port.</summary>
    public async Task RestartAsync()
    {
        var port = Host.Url.Port;
        await Host.DisposeAsync();
        Host = await ControlServerHost.StartAsync(Options with { Listen = $"http://127.0.0.1:{port}" }, Clock, l => l.SetMinimumLevel(LogLevel.Warning));
    }

    public async Task<string> AuthKeyAsync(bool reusable = true, bool ephemeral = false, DateTimeOffset? expires = null)
    {
        var user = await Store.GetUserAsync("alice") ?? (await Store.CreateUserAsync("alice")).Value!;
        var created = await Store.CreateAuthKeyAsync(user.Name, null, reusable, ephemeral, expires);
        Assert.True(created.Succeeded, created.Message);
        return created.Value!.Plaintext;
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
