using Trellis.Control.Sso;

namespace Trellis.Control.Server;

// The `oidc:` section: single sign-on, with the client secret from a file or the environment only.
public static partial class ServerOptionsLoader
{
    /// <summary>Where the client secret may come from instead of a file (a flag would show it in the process list).</summary>
    public const string ClientSecretVariable = "TRELLIS_OIDC_CLIENT_SECRET";

    /// <summary>The most a client secret file may hold: it is one line.</summary>
    private const int MaxSecretFile = 4096;

    private static SsoOptions SsoFromFile(OidcFile file, string path, string? at, IReadOnlyDictionary<string, string?> environment)
    {
        var where = at is null ? $"{path}: oidc" : $"{path}: {at}: oidc";
        var issuer = Required(file.Issuer, $"{where}.issuer is required: the provider's issuer URL, e.g. https://accounts.example.com");
        if (!SsoOptionsRules.IsAcceptableIssuer(issuer))
        {
            throw new ServerConfigurationException($"{where}.issuer '{issuer}' must be an https:// URL (plain http only for a provider on this host's loopback)");
        }

        var scopes = file.Scopes ?? [.. SsoOptions.DefaultScopes];
        if (!scopes.Contains("openid", StringComparer.Ordinal))
        {
            throw new ServerConfigurationException($"{where}.scopes must include openid (without it the provider issues no ID token)");
        }

        var domains = (file.AllowedDomains ?? []).Select(d => d.Trim().ToLowerInvariant()).ToList();
        if (domains.FirstOrDefault(d => d.Length == 0 || d.Contains('@', StringComparison.Ordinal)) is { } badDomain)
        {
            throw new ServerConfigurationException($"{where}.allowed-domains: '{badDomain}' is not a domain (write example.com, not an email)");
        }

        if ((file.AdminUsers ?? []).FirstOrDefault(u => !u.Contains('@', StringComparison.Ordinal)) is { } badAdmin)
        {
            throw new ServerConfigurationException($"{where}.admin-users: '{badAdmin}' is not an email (admins are named by the verified email the provider gives; groups go in {where}.admin-groups)");
        }

        TimeSpan? lifetime = file.NodeKeyExpiry is null ? SsoOptions.DefaultNodeKeyExpiry
            : IsOff(file.NodeKeyExpiry) ? null : Duration(file.NodeKeyExpiry, $"{where}.node-key-expiry");
        var loginTimeout = file.LoginTimeout is null ? SsoOptions.DefaultLoginTimeout : Duration(file.LoginTimeout, $"{where}.login-timeout");
        if (loginTimeout < TimeSpan.FromMinutes(1) || loginTimeout > TimeSpan.FromHours(24))
        {
            throw new ServerConfigurationException($"{where}.login-timeout must be between 1m and 24h (a person needs time to sign in; an old link should die)");
        }

        return new SsoOptions
        {
            Issuer = issuer,
            ClientId = Required(file.ClientId, $"{where}.client-id is required: the id the provider gave this server"),
            ClientSecret = ClientSecret(file.ClientSecretFile, where, environment),
            Scopes = scopes,
            AllowedDomains = domains,
            AllowedUsers = [.. (file.AllowedUsers ?? []).Select(u => u.Trim())],
            AllowedGroups = [.. file.AllowedGroups ?? []],
            AdminUsers = [.. (file.AdminUsers ?? []).Select(u => u.Trim())],
            AdminGroups = [.. file.AdminGroups ?? []],
            GroupsClaim = Required(file.GroupsClaim ?? "groups", $"{where}.groups-claim must name a claim"),
            NodeKeyExpiry = lifetime,
            LoginTimeout = loginTimeout,
        };
    }

    /// <summary>TRELLIS_OIDC_CLIENT_SECRET, else the first line of client-secret-file.</summary>
    private static string ClientSecret(string? file, string where, IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue(ClientSecretVariable, out var fromEnvironment) && !string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return fromEnvironment.Trim();
        }

        if (file is null)
        {
            throw new ServerConfigurationException($"{where} needs the client secret: name a file holding it with {where}.client-secret-file (mode 0600), or set {ClientSecretVariable}");
        }

        string text;
        try
        {
            using var stream = File.OpenRead(file);
            if (stream.Length > MaxSecretFile)
            {
                throw new ServerConfigurationException($"{where}.client-secret-file {file} is larger than a client secret can be ({MaxSecretFile} bytes)");
            }

            text = new StreamReader(stream).ReadToEnd();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ServerConfigurationException($"{where}.client-secret-file {file} cannot be read: {e.Message}");
        }

        var secret = text.Trim();
        return secret.Length > 0 ? secret : throw new ServerConfigurationException($"{where}.client-secret-file {file} is empty");
    }

    private static string Required(string? value, string error) =>
        string.IsNullOrWhiteSpace(value) ? throw new ServerConfigurationException(error) : value.Trim();
}
