using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Server;
using Trellis.Control.Store;

namespace Trellis.Node.Tests.Control;

/// <summary>A real `trellis server` on 127.0.0.1 (SQLite in a temporary directory, STUN off).</summary>
internal sealed class TestControlServer : IAsyncDisposable
{
    private readonly ServerOptions _options;

    private TestControlServer(string dataDirectory, ControlServerHost host, ServerOptions options, FakeTimeProvider clock)
    {
        DataDirectory = dataDirectory;
        Host = host;
        _options = options;
        Clock = clock;
    }

    public string DataDirectory { get; }

    /// <summary>The store's clock (the network runs on real time).</summary>
    public FakeTimeProvider Clock { get; }

    public ControlServerHost Host { get; private set; }

    public Uri Url => Host.Url;

    public ControlStore Store => Host.Service.Store;

    /// <summary>The public Noise key nodes pin.</summary>
    public Trellis.Core.Keys.Key PublicKey => Trellis.Crypto.X25519.PublicKey(ServerKey.LoadOrCreate(DataDirectory));

    /// <param name="port">0: any free port; another server's port: an impostor at its URL (its own data, so its own key).</param>
    /// <param name="copyOf">A stopped server's data directory to start on a copy of: its nodes and its server key, as a replica of it would have.</param>
    public static async Task<TestControlServer> StartAsync(int port = 0, string? copyOf = null)
    {
        // The server waits out ASP.NET's 30 s graceful shutdown for open control WebSockets; a restart
        // test need not. (Read by every host this process builds; it only shortens their stop.)
        Environment.SetEnvironmentVariable("ASPNETCORE_SHUTDOWNTIMEOUTSECONDS", "1");
        var dir = Directory.CreateTempSubdirectory("trellis-node-server-").FullName;
        foreach (var file in copyOf is null ? [] : new DirectoryInfo(copyOf).EnumerateFiles())
        {
            if (!file.Name.EndsWith(".sock", StringComparison.Ordinal)) // the admin socket is the running server's own
            {
                file.CopyTo(Path.Combine(dir, file.Name));
            }
        }

        var options = new ServerOptions { Listen = $"http://127.0.0.1:{port}", DataDirectory = dir, StunPort = 0 };
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var host = await ControlServerHost.StartAsync(options, clock, l => l.SetMinimumLevel(LogLevel.Warning));
        return new TestControlServer(dir, host, options, clock);
    }

    /// <summary>Stops the server and starts it again on the same port and data.</summary>
    public async Task RestartAsync()
    {
        var port = Host.Url.Port;
        await Host.DisposeAsync();
        Host = await ControlServerHost.StartAsync(_options with { Listen = $"http://127.0.0.1:{port}" }, Clock, l => l.SetMinimumLevel(LogLevel.Warning));
    }

    public async Task<string> AuthKeyAsync(bool reusable = true)
    {
        var user = await Store.GetUserAsync("alice") ?? (await Store.CreateUserAsync("alice")).Value!;
        var created = await Store.CreateAuthKeyAsync(user.Name, null, reusable, false, null);
        Assert.True(created.Succeeded, created.Message);
        return created.Value!.Plaintext;
    }

    public async Task ApproveAsync(long nodeId)
    {
        await AuthKeyAsync(); // makes sure alice exists
        var approved = await Store.ApproveNodeAsync(nodeId, "alice");
        Assert.True(approved.Succeeded, approved.Message);
        Host.Service.Refresh(approved.Value!);
    }

    public async Task DeleteAsync(long nodeId)
    {
        await Store.DeleteNodeAsync(nodeId);
        Host.Service.Removed(nodeId, "deleted by an admin");
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
