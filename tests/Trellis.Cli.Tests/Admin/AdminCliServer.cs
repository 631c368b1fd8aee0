using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Trellis.Control.AccessControl;
using Trellis.Control.Admin;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Policy;
using Trellis.Control.Server;
using Trellis.Control.Store;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Cli.Tests.Admin;

/// <summary>A control server's admin API for the CLI to talk to: TCP on 127.0.0.1:0 and the admin socket, on SQLite.</summary>
internal sealed class AdminCliServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private AdminCliServer(WebApplication app, string directory, ControlService service, string url, string socket, string apiKey)
    {
        _app = app;
        _directory = directory;
        Service = service;
        Url = url;
        SocketPath = socket;
        ApiKey = apiKey;
    }

    public ControlService Service { get; }

    public ControlStore Store => Service.Store;

    public string Url { get; }

    public string SocketPath { get; }

    public string ApiKey { get; }

    public string Directory => _directory;

    /// <param name="compiler">The policy compiler (default: none, as a server without the policy language).</param>
    public static async Task<AdminCliServer> StartAsync(IPolicyCompiler? compiler = null)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"trellis-cli-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(directory);
        var contexts = TrellisDbContextFactory.SqliteFile(Path.Combine(directory, "trellis.db"));
        await contexts.MigrateAsync();
        var store = new ControlStore(contexts, TimeProvider.System);
        await store.InitializeAsync();
        var service = new ControlService(store, new MeshState(() => new RelayMap(), ["100.64.0.0/10"]), TimeProvider.System, NullLogger<ControlService>.Instance);
        var options = new ServerOptions { DataDirectory = directory };
        var policy = new PolicyService(service, compiler ?? new HuJsonPolicyCompiler(), null, NullLogger<PolicyService>.Instance);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        AdminApi.PrepareSocket(options.EffectiveAdminSocket);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.ListenUnixSocket(options.EffectiveAdminSocket);
        });
        AdminApi.AddServices(builder.Services);
        var app = builder.Build();
        AdminApi.Map(app, service, options, policy);
        await app.StartAsync();
        AdminApi.SecureSocket(options.EffectiveAdminSocket);

        var url = app.Urls.First(u => !u.StartsWith("http://unix:", StringComparison.Ordinal));
        var key = await store.CreateApiKeyAsync(DateTimeOffset.UtcNow.AddDays(1));
        return new AdminCliServer(app, directory, service, url, options.EffectiveAdminSocket, key.Value!.Plaintext);
    }

    private static Key NewKey() => new(RandomNumberGenerator.GetBytes(Key.Size));

    public async Task<Trellis.Control.Store.Node> RegisterAsync(string user, string hostname, IReadOnlyList<string>? routes = null)
    {
        if (await Store.GetUserAsync(user) is null)
        {
            await Store.CreateUserAsync(user);
        }

        var key = await Store.CreateAuthKeyAsync(user, null, reusable: false, ephemeral: false, DateTimeOffset.UtcNow.AddHours(1));
        var result = await Store.RegisterNodeAsync(new RegistrationRequest(key.Value!.Plaintext, NewKey(), NewKey(), NewKey(), hostname, routes));
        var node = Assert.IsType<RegistrationResult.Registered>(result).Node;
        Service.Refresh(node);
        return node;
    }

    public async Task<Trellis.Control.Store.Node> RegisterPendingAsync(string hostname)
    {
        var result = await Store.RegisterNodeAsync(new RegistrationRequest(null, NewKey(), NewKey(), NewKey(), hostname));
        return Assert.IsType<RegistrationResult.Pending>(result).Node;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools(); // pooled connections hold the file open
        System.IO.Directory.Delete(_directory, recursive: true);
    }
}
