using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.AccessControl;
using Trellis.Control.Admin;
using Trellis.Control.Mesh;
using Trellis.Control.NodeProtocol;
using Trellis.Control.Policy;
using Trellis.Control.Server;
using Trellis.Control.Store;
using Trellis.Control.Sso;
using Trellis.Control.Tests.TestDoubles;
using Trellis.Control.WebConsole;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.Tests.Admin;

/// <summary>
/// The admin API as the server hosts it: Kestrel on 127.0.0.1:0 plus the admin Unix socket, a real
/// store on an SQLite file, the live mesh, and a fake clock shared by store and API.
/// </summary>
internal sealed class AdminTestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private AdminTestServer(
        WebApplication app, string directory, ControlService service, PolicyService policy, FakeTimeProvider clock, Uri url, string socket, string apiKey, ConsoleSessions? console)
    {
        Console = console;
        _app = app;
        _directory = directory;
        Service = service;
        Policy = policy;
        Clock = clock;
        Url = url;
        SocketPath = socket;
        ApiKey = apiKey;
    }

    public ControlService Service { get; }

    /// <summary>The web console's sessions, when the server was started with the console on.</summary>
    public ConsoleSessions? Console { get; }

    public PolicyService Policy { get; }

    public ControlStore Store => Service.Store;

    public MeshState Mesh => Service.Mesh;

    public FakeTimeProvider Clock { get; }

    public Uri Url { get; }

    public string SocketPath { get; }

    /// <summary>A live API key, created directly in the store.</summary>
    public string ApiKey { get; }

    /// <param name="contexts">Opens the migrated database file instead of the server's own factory (a test's levers).</param>
    /// <param name="compiler">The policy compiler (default: none, as a server without the policy language).</param>
    /// <param name="policyFile">A policy file the server reads instead of its database.</param>
    /// <param name="logs">Where the server's own log lines go (default: nowhere).</param>
    /// <param name="console">Accept the web console's session cookies (<see cref="Console"/> opens sessions).</param>
    public static async Task<AdminTestServer> StartAsync(
        Func<string, IDbContextFactory<TrellisDbContext>>? contexts = null, IPolicyCompiler? compiler = null, string? policyFile = null, ILoggerProvider? logs = null,
        bool console = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"trellis-admin-{Guid.NewGuid():N}");
        Directory.CreateDirectory(directory);
        var database = Path.Combine(directory, "trellis.db");
        var migrated = TrellisDbContextFactory.SqliteFile(database);
        await migrated.MigrateAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var store = new ControlStore(contexts?.Invoke(database) ?? migrated, clock);
        await store.InitializeAsync();
        var mesh = new MeshState(() => new RelayMap(), ["100.64.0.0/10"]);
        ILogger<ControlService> serviceLog = logs is null ? NullLogger<ControlService>.Instance : new Logger<ControlService>(new LoggerFactory([logs]));
        var service = new ControlService(store, mesh, clock, serviceLog);
        var options = new ServerOptions { DataDirectory = directory, PolicyFile = policyFile };
        var policy = new PolicyService(service, compiler ?? new HuJsonPolicyCompiler(), policyFile, NullLogger<PolicyService>.Instance);
        await policy.LoadAsync(CancellationToken.None);

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        AdminApi.PrepareSocket(options.EffectiveAdminSocket);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0);
            kestrel.ListenUnixSocket(options.EffectiveAdminSocket);
        });
        builder.Services.AddSingleton<TimeProvider>(clock);
        AdminApi.AddServices(builder.Services);
        var app = builder.Build();
        var sessions = console ? new ConsoleSessions(clock) : null;
        AdminApi.Map(app, service, options, policy, sessions);
        if (sessions is not null)
        {
            MapConsole(app, service, sessions, clock);
        }

        await app.StartAsync();
        AdminApi.SecureSocket(options.EffectiveAdminSocket);

        var url = new Uri(app.Urls.First(u => !u.StartsWith("http://unix:", StringComparison.Ordinal)));
        var key = await store.CreateApiKeyAsync(clock.GetUtcNow().AddDays(1));
        return new AdminTestServer(app, directory, service, policy, clock, url, options.EffectiveAdminSocket, key.Value!.Plaintext, sessions);
    }

    /// <summary>The identity provider the console's sign-in is sent to (its discovery document only: no sign-in completes here).</summary>
    public const string ConsoleIssuer = "https://id.example.com";

    private static void MapConsole(WebApplication app, ControlService service, ConsoleSessions sessions, TimeProvider clock)
    {
        var sso = new SsoOptions { Issuer = ConsoleIssuer, ClientId = "trellis", ClientSecret = "secret" };
        var provider = new SsoProvider(sso, new HttpClient(new StaticHttpHandler(new()
        {
            [ConsoleIssuer + "/.well-known/openid-configuration"] = $$"""
                { "issuer": "{{ConsoleIssuer}}", "authorization_endpoint": "{{ConsoleIssuer}}/auth", "token_endpoint": "{{ConsoleIssuer}}/token", "jwks_uri": "{{ConsoleIssuer}}/jwks" }
                """,
            [ConsoleIssuer + "/jwks"] = """{ "keys": [] }""",
        })));
        var flow = new ConsoleSignInFlow(
            new ConsoleSignIns(clock, TimeSpan.FromMinutes(10)), sessions, provider, sso, service, "http://vpn.example.com/oidc/callback", secureCookie: false, NullLogger.Instance);
        ConsoleEndpoints.Map(app, flow, sessions, service.Store, secureCookie: false, NullLogger.Instance);
        var feed = new ConsoleLiveFeed(clock);
        service.Observe(feed);
        ConsoleEventsEndpoint.Map(app, feed, sessions, service.Store, NullLogger.Instance);
    }

    /// <summary>A client of the TCP listener, with the API key unless told otherwise.</summary>
    public HttpClient Client(string? apiKey = "") => Client(Url, apiKey == string.Empty ? ApiKey : apiKey);

    public static HttpClient Client(Uri url, string? apiKey)
    {
        var client = new HttpClient { BaseAddress = url };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>A client of the admin Unix socket, with no API key.</summary>
    public HttpClient SocketClient()
    {
        var path = SocketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri("http://localhost/") };
    }

    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static Key NewKey() => new(RandomNumberGenerator.GetBytes(Key.Size));

    public async Task<User> CreateUserAsync(string name) => (await Store.CreateUserAsync(name)).Value!;

    /// <summary>Registers an active node for <paramref name="user"/> and publishes it to the mesh.</summary>
    public async Task<Node> RegisterAsync(string user, string hostname, IReadOnlyList<string>? routes = null)
    {
        if (await Store.GetUserAsync(user) is null)
        {
            await CreateUserAsync(user);
        }

        var key = await Store.CreateAuthKeyAsync(user, null, reusable: false, ephemeral: false, Clock.GetUtcNow().AddHours(1));
        var result = await Store.RegisterNodeAsync(new RegistrationRequest(key.Value!.Plaintext, NewKey(), NewKey(), NewKey(), hostname, routes));
        var node = Assert.IsType<RegistrationResult.Registered>(result).Node;
        Service.Refresh(node);
        return node;
    }

    /// <summary>Overwrites a node's stored advertisement behind the store's back, as an older server could have stored it.</summary>
    public async Task StoreAdvertisementDirectlyAsync(long nodeId, IReadOnlyList<string> routes)
    {
        await using var db = TrellisDbContextFactory.SqliteFile(Path.Combine(_directory, "trellis.db")).CreateDbContext();
        var row = (await db.Nodes.FindAsync(nodeId))!;
        row.AdvertisedRoutes = [.. routes];
        await db.SaveChangesAsync();
    }

    /// <summary>Registers a node without an auth key: it waits for an admin.</summary>
    public async Task<Node> RegisterPendingAsync(string hostname)
    {
        var result = await Store.RegisterNodeAsync(new RegistrationRequest(null, NewKey(), NewKey(), NewKey(), hostname));
        return Assert.IsType<RegistrationResult.Pending>(result).Node;
    }

    /// <summary>The next message that is not a keepalive, or null once the session is closed.</summary>
    public static async Task<ControlMessage?> NextAsync(MeshSession session)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var message = await session.NextAsync(TimeSpan.FromMilliseconds(200), timeout.Token);
            if (message is not KeepaliveMessage)
            {
                return message;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        SqliteConnection.ClearAllPools(); // pooled connections hold the file open
        Directory.Delete(_directory, recursive: true);
    }
}
