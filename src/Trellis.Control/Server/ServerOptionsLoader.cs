using System.Globalization;
using System.Net;
using Trellis.Core.Control;
using Trellis.Core.Metrics;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Trellis.Control.Server;

/// <summary>
/// Builds <see cref="ServerOptions"/> from a YAML file, then TRELLIS_* environment variables, then
/// flags (each overriding the one before), and validates the result with errors a person can act on.
/// </summary>
public static partial class ServerOptionsLoader
{
    /// <summary>The keys a file, the environment (TRELLIS_ + upper case, '-' as '_') and flags (--key) share.</summary>
    public static readonly string[] Keys =
    [
        "listen", "public-url", "data-dir", "tls-cert", "tls-key", "database", "ipv4-prefix", "ipv6-prefix",
        "ephemeral-timeout", "keepalive", "admin-socket", "relay", "stun-port", "relay-mesh-key",
        "max-connections", "max-connections-per-address", "handshake-timeout", "idle-timeout", "max-node-message",
        "node-key-expiry", "max-pending-nodes", "pending-node-expiry", "policy-file", "dns-base-domain", "metrics-listen",
    ];

    /// <summary>Nodes ping every 25 s; an idle timeout below this would cut healthy ones.</summary>
    private static readonly TimeSpan MinIdleTimeout = TimeSpan.FromSeconds(30);

    /// <summary>One Noise message: a smaller cap would refuse ordinary registrations.</summary>
    private const int MinNodeMessage = 64 * 1024;

    public static ServerOptions Load(string? yamlPath, IReadOnlyDictionary<string, string?> flags, IReadOnlyDictionary<string, string?> environment)
    {
        var options = new ServerOptions();
        if (yamlPath is not null)
        {
            options = FromYaml(options, yamlPath, environment);
        }

        foreach (var key in Keys)
        {
            var variable = "TRELLIS_" + key.ToUpperInvariant().Replace('-', '_');
            if (environment.TryGetValue(variable, out var fromEnvironment) && !string.IsNullOrEmpty(fromEnvironment))
            {
                options = Apply(options, key, fromEnvironment, variable);
            }
        }

        foreach (var (key, value) in flags)
        {
            if (value is not null)
            {
                options = Apply(options, key, value, "--" + key);
            }
        }

        Validate(options);
        return options with { Dns = ValidDns(options.Dns) };
    }

    private static ServerOptions FromYaml(ServerOptions options, string path, IReadOnlyDictionary<string, string?> environment)
    {
        if (!File.Exists(path))
        {
            throw new ServerConfigurationException($"configuration file {path} does not exist");
        }

        var text = File.ReadAllText(path);
        var positions = ServerConfigShape.Check(path, text);
        ServerConfigFile file;
        try
        {
            file = new DeserializerBuilder()
                .WithNamingConvention(HyphenatedNamingConvention.Instance)
                .Build()
                .Deserialize<ServerConfigFile?>(text) ?? new ServerConfigFile();
        }
        catch (YamlException e)
        {
            throw ServerConfigShape.Unbindable(path, e);
        }

        foreach (var (key, value) in file.Scalars())
        {
            options = Apply(options, key, value, positions.TryGetValue(key, out var at) ? $"{path}: {at}: {key}" : $"{path}: {key}");
        }

        if (file.RelayRegions is { } regions)
        {
            options = options with { RelayMap = new RelayMap { Regions = regions.Select(r => r.ToRegion()).ToList() } };
        }

        if (file.Dns is { } dns)
        {
            options = options with { Dns = dns.ToConfig(options.Dns) };
        }

        if (file.Oidc is { } oidc)
        {
            options = options with { Sso = SsoFromFile(oidc, path, positions.GetValueOrDefault(ServerConfigShape.Oidc), environment) };
        }

        if (file.AutoApprovers is { } approvers)
        {
            options = options with { AutoApprovers = approvers.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value) };
        }

        return options;
    }

    private static ServerOptions Apply(ServerOptions options, string key, string value, string source) => key switch
    {
        "listen" => options with { Listen = value },
        "public-url" => options with { PublicUrl = value },
        "data-dir" => options with { DataDirectory = value },
        "tls-cert" => options with { TlsCertificate = value },
        "tls-key" => options with { TlsKey = value },
        "database" => options with { Database = value },
        "ipv4-prefix" => options with { IPv4Prefix = value },
        "ipv6-prefix" => options with { IPv6Prefix = value },
        "ephemeral-timeout" => options with { EphemeralTimeout = Duration(value, source) },
        "keepalive" => options with { KeepaliveInterval = Duration(value, source) },
        "admin-socket" => options with { AdminSocket = value },
        "relay" => options with { Relay = Boolean(value, source) },
        "stun-port" => options with { StunPort = Port(value, source, allowZero: true) },
        "relay-mesh-key" => options with { RelayMeshKey = value },
        "max-connections" => options with { MaxConnections = Count(value, source, min: 1) },
        "max-connections-per-address" => options with { MaxConnectionsPerAddress = Count(value, source, min: 0) },
        "handshake-timeout" => options with { HandshakeTimeout = Duration(value, source) },
        "idle-timeout" => options with { IdleTimeout = Duration(value, source) },
        "max-node-message" => options with { MaxNodeMessage = Count(value, source, min: MinNodeMessage, max: MessageFramer.DefaultMaxMessage) },
        "node-key-expiry" => options with { NodeKeyExpiry = IsOff(value) ? null : Duration(value, source) },
        "max-pending-nodes" => options with { MaxPendingNodes = Count(value, source, min: 0) },
        "pending-node-expiry" => options with { PendingNodeExpiry = Duration(value, source) },
        "policy-file" => options with { PolicyFile = value },
        "metrics-listen" => options with { MetricsListen = MetricsEndpoint(value, source) },
        "dns-base-domain" => options with { Dns = options.Dns with { BaseDomain = value } },
        _ => throw new ServerConfigurationException($"{source}: unknown setting '{key}'"),
    };

    private static IPEndPoint? MetricsEndpoint(string text, string source) =>
        IsOff(text) ? null : MetricsAddress.TryParse(text, out var error) ?? throw new ServerConfigurationException($"{source}: {error}");

    private static bool Boolean(string text, string source) => text.Trim().ToLowerInvariant() switch
    {
        "true" or "yes" or "on" or "1" => true,
        "false" or "no" or "off" or "0" => false,
        _ => throw new ServerConfigurationException($"{source}: '{text}' is not true or false"),
    };

    private static bool IsOff(string text) => text.Trim().ToLowerInvariant() is "off" or "never" or "0";

    private static int Port(string text, string source, bool allowZero) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= 65535 && (port > 0 || allowZero)
            ? port
            : throw new ServerConfigurationException($"{source}: '{text}' is not a port number (1-65535{(allowZero ? ", or 0 for off" : "")})");

    private static int Count(string text, string source, int min, int max = int.MaxValue) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ServerConfigurationException(
                $"{source}: '{text}' is not a whole number of {min} or more{(max < int.MaxValue ? $" and at most {max}" : "")}");

    /// <summary>"90s", "5m", "2h", "180d", or plain seconds.</summary>
    public static TimeSpan Duration(string text, string source)
    {
        var t = text.Trim();
        var unit = t.Length > 0 && char.IsLetter(t[^1]) ? t[^1] : 's';
        var number = char.IsLetter(t.Length > 0 ? t[^1] : '0') ? t[..^1] : t;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n <= 0)
        {
            throw new ServerConfigurationException($"{source}: '{text}' is not a duration (use 30s, 5m, 2h, 7d)");
        }

        return unit switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => throw new ServerConfigurationException($"{source}: '{text}' has an unknown unit (use s, m, h or d)"),
        };
    }

    private static DnsConfig ValidDns(DnsConfig dns) =>
        DnsConfigRules.TryNormalize(dns, out var normalized, out var error)
            ? normalized
            : throw new ServerConfigurationException($"dns: {error}");

    private static void Validate(ServerOptions o)
    {
        if (!Uri.TryCreate(o.Listen, UriKind.Absolute, out var listen) || (listen.Scheme != "http" && listen.Scheme != "https"))
        {
            throw new ServerConfigurationException($"listen address '{o.Listen}' must be an http:// or https:// URL, e.g. http://0.0.0.0:8080");
        }

        if (listen.Scheme == "https" && (o.TlsCertificate is null || o.TlsKey is null))
        {
            throw new ServerConfigurationException("an https listen address needs --tls-cert and --tls-key (or listen on http behind a reverse proxy)");
        }

        if ((o.TlsCertificate is null) != (o.TlsKey is null))
        {
            throw new ServerConfigurationException("--tls-cert and --tls-key go together");
        }

        foreach (var path in new[] { o.TlsCertificate, o.TlsKey })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new ServerConfigurationException($"TLS file {path} does not exist");
            }
        }

        if (o.PublicUrl is not null && !Uri.TryCreate(o.PublicUrl, UriKind.Absolute, out _))
        {
            throw new ServerConfigurationException($"public URL '{o.PublicUrl}' is not an absolute URL");
        }

        if (!IPNetwork.TryParse(o.IPv4Prefix, out var v4) || v4.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || v4.PrefixLength > 30)
        {
            throw new ServerConfigurationException($"IPv4 prefix '{o.IPv4Prefix}' must be an IPv4 network of /30 or larger, e.g. 100.64.0.0/10");
        }

        // Nodes route the overlay into their tunnels and refuse a public one, which would capture internet traffic.
        if (!Trellis.Core.Control.OverlaySpace.Contains(v4))
        {
            throw new ServerConfigurationException($"IPv4 prefix '{o.IPv4Prefix}' must lie in private address space ({Trellis.Core.Control.OverlaySpace.Describe}), e.g. 100.64.0.0/10");
        }

        if (o.IPv6Prefix is not null &&
            (!IPNetwork.TryParse(o.IPv6Prefix, out var v6) || !Store.OverlayAddresses.IsUlaPrefix(v6)))
        {
            throw new ServerConfigurationException($"IPv6 prefix '{o.IPv6Prefix}' must be a unique local /48 (inside fd00::/8), e.g. fd12:3456:789a::/48");
        }

        foreach (var prefix in o.AutoApprovers.Keys)
        {
            if (!IPNetwork.TryParse(prefix, out _))
            {
                throw new ServerConfigurationException($"auto-approver prefix '{prefix}' is not a network (e.g. 192.168.0.0/16)");
            }
        }

        if (o.PolicyFile is not null && !File.Exists(o.PolicyFile))
        {
            throw new ServerConfigurationException($"policy file {o.PolicyFile} does not exist (policy-file); create it, or leave policy-file out to keep the policy in the database");
        }

        if (o.Sso is not null && o.PublicUrl is null)
        {
            throw new ServerConfigurationException(
                $"oidc needs public-url: the identity provider sends browsers back to PUBLIC-URL{Sso.SsoLogins.CallbackPath}, which must be registered there as the redirect URI");
        }

        if (o.IdleTimeout < MinIdleTimeout)
        {
            throw new ServerConfigurationException(
                $"idle-timeout {o.IdleTimeout.TotalSeconds:0.#}s would cut healthy nodes, which ping every 25 s; use {MinIdleTimeout.TotalSeconds:0}s or more (default {NodeProtocol.NodeConnectionLimits.DefaultIdleTimeout.TotalSeconds:0}s)");
        }

        if (o.RelayMeshKey is { Length: < 32 })
        {
            throw new ServerConfigurationException("the relay mesh key must be at least 32 characters (e.g. the output of `openssl rand -hex 32`)");
        }

        foreach (var region in o.RelayMap.Regions)
        {
            if (region.Id <= 0 || region.Nodes.Count == 0)
            {
                throw new ServerConfigurationException($"relay region '{region.Code}' needs a positive id and at least one node");
            }

            foreach (var node in region.Nodes)
            {
                if (string.IsNullOrWhiteSpace(node.Host) || node.Port is < 1 or > 65535 || node.StunPort is < 0 or > 65535)
                {
                    throw new ServerConfigurationException($"relay node '{node.Name}' of region '{region.Code}' needs a host, a port of 1-65535 and a STUN port of 0-65535");
                }
            }
        }
    }
}
