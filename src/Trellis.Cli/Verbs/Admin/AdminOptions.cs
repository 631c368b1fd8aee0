using System.CommandLine;
using Trellis.Control.Server;
using Trellis.Core.Tls;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>
/// Where an admin verb sends its request, shared by every verb of a group (recursive options).
/// By default: the local server's admin socket, which needs no key. With --server (or
/// TRELLIS_SERVER): that server's HTTP API, with --api-key (or, better, TRELLIS_API_KEY, which
/// other users cannot read from the process list).
/// </summary>
internal sealed class AdminOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = "Admin API of a Trellis server, e.g. https://trellis.example.com (default: $TRELLIS_SERVER; otherwise the local admin socket).",
        Recursive = true,
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = "API key for --server (default: $TRELLIS_API_KEY, which keeps it out of the process list).",
        Recursive = true,
    };

    public Option<string?> AdminSocket { get; } = new("--admin-socket")
    {
        Description = $"The local server's admin socket, which needs no API key (default: $TRELLIS_ADMIN_SOCKET, else {DefaultSocket()}).",
        Recursive = true,
    };

    public Option<string?> CaCert { get; } = CaCertOption.Create("--server's certificate", recursive: true);

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the API's JSON instead of a table.",
        Recursive = true,
    };

    public void AddTo(Command group)
    {
        group.Options.Add(Server);
        group.Options.Add(ApiKey);
        group.Options.Add(AdminSocket);
        group.Options.Add(CaCert);
        group.Options.Add(Json);
    }

    /// <summary>A client for the target these options (and the environment) name.</summary>
    public AdminClient Connect(ParseResult parse)
    {
        var explicitServer = parse.GetValue(Server);
        var explicitSocket = parse.GetValue(AdminSocket);
        if (explicitServer is not null && explicitSocket is not null)
        {
            throw AdminCommandException.Usage("give --server or --admin-socket, not both");
        }

        var server = explicitSocket is null ? NonEmpty(explicitServer) ?? Environment("TRELLIS_SERVER") : null;
        if (server is null)
        {
            return AdminClient.ForSocket(NonEmpty(explicitSocket) ?? DefaultSocket());
        }

        if (!Uri.TryCreate(server, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw AdminCommandException.Usage($"--server must be an http:// or https:// URL, got '{server}'");
        }

        var key = NonEmpty(parse.GetValue(ApiKey)) ?? Environment("TRELLIS_API_KEY")
            ?? throw AdminCommandException.Usage("--server needs an API key: give --api-key or set TRELLIS_API_KEY (create one on the server host with `trellis apikeys create`)");
        PrivateCa? ca;
        try
        {
            ca = PrivateCa.FromFlagOrEnvironment(parse.GetValue(CaCert));
        }
        catch (InvalidDataException e)
        {
            throw AdminCommandException.Usage(e.Message);
        }

        return AdminClient.ForServer(url, key, ca);
    }

    /// <summary>Where the server puts its socket when not told otherwise, by the same environment it reads.</summary>
    private static string DefaultSocket() =>
        Environment("TRELLIS_ADMIN_SOCKET")
        ?? (Environment("TRELLIS_DATA_DIR") is { } data ? Path.Combine(data, "admin.sock") : new ServerOptions().EffectiveAdminSocket);

    private static string? Environment(string name) => NonEmpty(System.Environment.GetEnvironmentVariable(name));

    private static string? NonEmpty(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
