using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Trellis.Lab.Tests.Node;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Sso;

/// <summary>
/// A <see cref="MeshLab"/> whose server signs people in at a real OpenID provider (the npm package
/// oidc-provider, run by node on the server's host, at its loopback), and Debian's Chromium driven
/// by Playwright to sign in as a person would. Its people: alice and bob of example.com (groups eng
/// and ops), carol of elsewhere.test (group eng), who is outside the domain the server admits.
/// alice is an admin of the web console (by email); bob is a member.
/// </summary>
public sealed partial class SsoLab : IAsyncDisposable
{
    /// <summary>In the server's namespace: no other lab shares the port.</summary>
    public const int ProviderPort = 9400;

    public const string Issuer = "http://127.0.0.1:9400";

    public const string ClientId = "trellis-lab";

    // A safety net only: node and Chromium start slowly on busy shared cores.
    private static readonly TimeSpan BrowserTimeout = TimeSpan.FromSeconds(180);

    private static readonly Lazy<Task> Installed = new(InstallAsync);

    private readonly string _directory;

    private readonly ProviderConfig _providerConfig;

    private SsoLab(MeshLab mesh, LabProcess provider, string directory, ProviderConfig providerConfig)
    {
        Mesh = mesh;
        Provider = provider;
        _directory = directory;
        _providerConfig = providerConfig;
    }

    /// <summary>The provider puts <paramref name="login"/> in these groups from their next sign-in on.</summary>
    public void SetGroups(string login, params string[] groups)
    {
        _providerConfig.Users[login] = _providerConfig.Users[login] with { Groups = groups };
        _providerConfig.Write();
    }

    public MeshLab Mesh { get; }

    public LabProcess Provider { get; }

    private static string Fixture => Path.Combine(AppContext.BaseDirectory, "Sso", "oidc");

    /// <param name="serverConfig">More YAML for the server (a policy-file, say), given the directory to put files in.</param>
    /// <param name="nodeKeyExpiry">The oidc section's node-key-expiry (default: the server's default).</param>
    public static async Task<SsoLab> StartAsync(ITestOutputHelper output, Func<string, string>? serverConfig = null, string? nodeKeyExpiry = null)
    {
        LabRequirements.EnsureAvailable(["node", "chromium"]);
        await Installed.Value;
        var directory = Directory.CreateTempSubdirectory("trellis-sso-").FullName;
        var secretFile = Path.Combine(directory, "client-secret");
        var secret = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        await File.WriteAllTextAsync(secretFile, secret + "\n");
        var providerConfig = new ProviderConfig(Path.Combine(directory, "provider.json"), secret);
        var mesh = await MeshLab.StartAsync(output, serverConfig: host =>
        {
            providerConfig.RedirectUri = LabControlServer.Url(host) + "/oidc/callback";
            providerConfig.Write();
            return $"""
                oidc:
                  issuer: {Issuer}
                  client-id: {ClientId}
                  client-secret-file: {secretFile}
                  scopes: [openid, profile, email, groups]
                  allowed-domains: [example.com]
                  admin-users: [alice@example.com]
                {(nodeKeyExpiry is null ? "" : $"  node-key-expiry: {nodeKeyExpiry}")}
                {serverConfig?.Invoke(directory)}
                """;
        });
        var provider = mesh.ServerHost.Namespace.StartProcess("node", [Path.Combine(Fixture, "provider.mjs"), providerConfig.Path]);
        var lab = new SsoLab(mesh, provider, directory, providerConfig);
        try
        {
            await Poll.UntilAsync(() => provider.Output.Contains("listening", StringComparison.Ordinal) || provider.HasExited, MeshLab.StartTimeout, "the OpenID provider");
            Assert.False(provider.HasExited, $"the OpenID provider exited: {provider.Output}");
            return lab;
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs `trellis up` on the node without an auth key and returns it (still waiting) with the sign-in link it printed.</summary>
    public async Task<(LabProcess Up, string Link)> UpForLinkAsync(LabNode node, params string[] extra)
    {
        var up = Mesh.Start(node.Host, ["up", "--server", Mesh.ServerUrl, "--socket", node.Socket, "--hostname", node.Name, .. extra]);
        var link = await Poll.ForValueAsync(
            _ => Task.FromResult(Link().Match(up.Output) is { Success: true } m ? m.Value : up.HasExited ? throw new InvalidOperationException($"trellis up ended without a link: {up.Output}") : null),
            MeshLab.StartTimeout,
            $"the sign-in link of {node.Name}");
        return (up, link);
    }

    /// <summary>Signs in at <paramref name="link"/> in Chromium as <paramref name="login"/>; the page it ends on.</summary>
    public async Task<SignInPage> SignInAsync(string link, string login)
    {
        var result = await Mesh.ServerHost.Namespace.ExecAsync(
            "node", [Path.Combine(Fixture, "signin.mjs"), link, login, "any-password"], new CommandOptions { Timeout = BrowserTimeout });
        Assert.True(result.Succeeded, $"signing in as {login} failed: {result}\nthe provider's output: {Provider.Output}");
        return JsonSerializer.Deserialize<SignInPage>(LastLine(result.StandardOutput), JsonOptions)!;
    }

    /// <summary>
    /// Runs one step of the web console in Chromium (console.mjs) with the browser profile
    /// <paramref name="profile"/>, which keeps its cookies between steps; screenshots go to <paramref name="shots"/>.
    /// </summary>
    public async Task<JsonElement> ConsoleAsync(string step, string profile, string shots, params string[] arguments)
    {
        var result = await Mesh.ServerHost.Namespace.ExecAsync(
            "node", [Path.Combine(Fixture, "console.mjs"), step, Mesh.ServerUrl, profile, shots, .. arguments], new CommandOptions { Timeout = BrowserTimeout });
        result.EnsureSuccess();
        return JsonDocument.Parse(LastLine(result.StandardOutput)).RootElement.Clone();
    }

    /// <summary>Starts a console step that waits for the test midway (it prints a line when it is ready); <see cref="ConsoleResult"/> reads its answer.</summary>
    public LabProcess StartConsole(string step, string profile, string shots, params string[] arguments) =>
        Mesh.ServerHost.Namespace.StartProcess("node", [Path.Combine(Fixture, "console.mjs"), step, Mesh.ServerUrl, profile, shots, .. arguments]);

    /// <summary>What a step started with <see cref="StartConsole"/> saw, once it has ended.</summary>
    public static async Task<JsonElement> ConsoleResult(LabProcess step)
    {
        var exit = await step.WaitForExitAsync(BrowserTimeout);
        Assert.True(exit == 0, $"the console step failed ({exit}): {step.Output}");
        return JsonDocument.Parse(LastLine(step.Output)).RootElement.Clone();
    }

    /// <summary>One GET from the server's host, redirects not followed: what a hand-made request gets.</summary>
    public async Task<FetchedPage> FetchAsync(string url)
    {
        var result = await Mesh.ServerHost.Namespace.ExecAsync("node", [Path.Combine(Fixture, "fetch.mjs"), url], CommandOptions.Default);
        result.EnsureSuccess();
        return JsonSerializer.Deserialize<FetchedPage>(LastLine(result.StandardOutput), JsonOptions)!;
    }

    public async ValueTask DisposeAsync()
    {
        await Provider.StopAsync();
        await Mesh.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private static string LastLine(string text) => text.TrimEnd().Split('\n')[^1];

    /// <summary>The fixture's npm packages, as locked, once per test run.</summary>
    private static async Task InstallAsync()
    {
        if (Directory.Exists(Path.Combine(Fixture, "node_modules", "oidc-provider")) && Directory.Exists(Path.Combine(Fixture, "node_modules", "playwright-core")))
        {
            return;
        }

        var npm = await HostCommand.RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--prefix", Fixture], new CommandOptions { Timeout = TimeSpan.FromMinutes(5) });
        npm.EnsureSuccess();
    }

    [GeneratedRegex(@"https?://\S+/oidc/start/[A-Za-z0-9_-]+")]
    private static partial Regex Link();
}

/// <summary>What provider.mjs reads: the client it serves and its people (read again at each sign-in).</summary>
internal sealed class ProviderConfig(string path, string secret)
{
    public string Path { get; } = path;

    public string RedirectUri { get; set; } = "";

    public Dictionary<string, ProviderUser> Users { get; } = new()
    {
        ["alice"] = new("alice@example.com", ["eng"]),
        ["bob"] = new("bob@example.com", ["ops"]),
        ["carol"] = new("carol@elsewhere.test", ["eng"]),
    };

    public void Write()
    {
        var text = JsonSerializer.Serialize(new
        {
            issuer = SsoLab.Issuer,
            port = SsoLab.ProviderPort,
            clientId = SsoLab.ClientId,
            clientSecret = secret,
            redirectUri = RedirectUri,
            groupsClaim = "groups",
            users = Users.ToDictionary(u => u.Key, u => new { email = u.Value.Email, groups = u.Value.Groups }),
        });

        // Whole or not at all: the provider may read it at any moment.
        File.WriteAllText(Path + ".new", text);
        File.Move(Path + ".new", Path, overwrite: true);
    }
}

internal sealed record ProviderUser(string Email, string[] Groups);

public sealed record SignInPage(string Url, int Status, string Text, string? Callback);

public sealed record FetchedPage(int Status, string? Location, string Body);
