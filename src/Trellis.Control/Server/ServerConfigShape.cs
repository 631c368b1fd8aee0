using System.Globalization;
using System.Text;
using Trellis.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Trellis.Control.Server;

/// <summary>
/// Checks a server YAML file's keys and the kind of each value (single value, list, map, number,
/// true/false) before it is bound, so every mistake is reported by key, line and column in words,
/// never as the binder's .NET type names.
/// </summary>
internal static class ServerConfigShape
{
    public const string RelayRegions = "relay-regions";

    public const string AutoApprovers = "auto-approvers";

    private const string Example = "dist/server.example.yaml";

    public static readonly string[] RegionKeys = ["id", "code", "name", "nodes"];

    public static readonly string[] NodeKeys = ["name", "host", "port", "tls", "stun-port", "ipv4", "ipv6"];

    /// <summary>Every top-level key a file may hold.</summary>
    public const string Dns = "dns";

    public static readonly string[] DnsKeys = ["base-domain", "search-domains", "nameservers", "split-dns", "extra-records"];

    public const string Oidc = "oidc";

    public static readonly string[] OidcKeys =
    [
        "issuer", "client-id", "client-secret-file", "scopes", "allowed-domains", "allowed-users", "allowed-groups",
        "admin-users", "admin-groups", "groups-claim", "node-key-expiry", "login-timeout",
    ];

    private static readonly string[] OidcLists = ["scopes", "allowed-domains", "allowed-users", "allowed-groups", "admin-users", "admin-groups"];

    /// <summary>Every flag's key (but dns-base-domain, which the file says inside dns:) and the structured sections.</summary>
    public static IEnumerable<string> TopLevelKeys =>
        ServerOptionsLoader.Keys.Where(k => k != "dns-base-domain").Append(RelayRegions).Append(AutoApprovers).Append(Dns).Append(Oidc);

    /// <summary>Checks the file's text; returns where each top-level key's value stands ("line 3, column 8").</summary>
    public static Dictionary<string, string> Check(string path, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ServerConfigurationException($"{path}: {At(e.Start)}: not valid YAML: {Plain(e)}");
        }

        var positions = new Dictionary<string, string>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || IsEmpty(stream.Documents[0].RootNode))
        {
            return positions;
        }

        if (stream.Documents.Count > 1)
        {
            throw new ServerConfigurationException($"{path}: {At(stream.Documents[1].RootNode.Start)}: the file holds more than one YAML document (---); keep all settings in one");
        }

        var root = Map(path, stream.Documents[0].RootNode, "the file", "settings, one 'key: value' per line");
        foreach (var (keyNode, value) in root.Children)
        {
            var key = Key(path, keyNode, TopLevelKeys, "setting");
            positions[key] = At(value.Start);
            switch (key)
            {
                case RelayRegions:
                    CheckRegions(path, value);
                    break;
                case AutoApprovers:
                    CheckApprovers(path, value);
                    break;
                case Dns:
                    CheckDns(path, value);
                    break;
                case Oidc:
                    CheckOidc(path, value);
                    break;
                default:
                    Scalar(path, value, key);
                    break;
            }
        }

        return positions;
    }

    /// <summary>A binder error that got past <see cref="Check"/>, told without type names.</summary>
    public static ServerConfigurationException Unbindable(string path, YamlException e) =>
        new($"{path}: {At(e.Start)}: this value does not fit here; see {Example} for the form of each setting");

    private static void CheckRegions(string path, YamlNode node)
    {
        if (IsEmpty(node))
        {
            return;
        }

        EachEntry(path, node, RelayRegions, "regions, each starting with '- id: 901'", "a region with id, code, name and nodes", RegionKeys, "region setting", (key, value, name) =>
        {
            switch (key)
            {
                case "id":
                    WholeNumber(path, value, name);
                    break;
                case "nodes":
                    EachEntry(path, value, name, "relay nodes, each starting with '- name: 901a'", "a relay node with name, host, port, tls and stun-port", NodeKeys, "relay node setting", CheckNodeSetting);
                    break;
                default:
                    Scalar(path, value, name);
                    break;
            }
        });

        void CheckNodeSetting(string key, YamlNode value, string name)
        {
            switch (key)
            {
                case "port" or "stun-port":
                    WholeNumber(path, value, name);
                    break;
                case "tls":
                    TrueOrFalse(path, value, name);
                    break;
                default:
                    Scalar(path, value, name);
                    break;
            }
        }
    }

    /// <summary>
    /// A list of maps (regions, a region's relay nodes): each entry must be a map of known keys, and
    /// each value is checked by <paramref name="checkValue"/> with its full name ("relay-regions[0].nodes[1].port").
    /// </summary>
    private static void EachEntry(
        string path, YamlNode node, string where, string listExpected, string entryExpected,
        string[] keys, string what, Action<string, YamlNode, string> checkValue)
    {
        var entries = List(path, node, where, listExpected);
        for (var i = 0; i < entries.Children.Count; i++)
        {
            var at = $"{where}[{i}]";
            foreach (var (keyNode, value) in Map(path, entries.Children[i], at, entryExpected).Children)
            {
                var key = Key(path, keyNode, keys, what);
                checkValue(key, value, $"{at}.{key}");
            }
        }
    }

    private static void CheckApprovers(string path, YamlNode node)
    {
        if (IsEmpty(node))
        {
            return;
        }

        var approvers = Map(path, node, AutoApprovers, "route prefixes, each with the list of users and tags that may approve it, e.g. '10.0.0.0/8: [alice, tag:router]'");
        foreach (var (prefix, who) in approvers.Children)
        {
            var name = $"{AutoApprovers} '{Scalar(path, prefix, AutoApprovers)}'";
            var list = List(path, who, name, "users and tags, e.g. [alice, tag:router]");
            foreach (var item in list.Children)
            {
                Scalar(path, item, name);
            }
        }
    }

    private static void CheckOidc(string path, YamlNode node)
    {
        if (IsEmpty(node))
        {
            return;
        }

        foreach (var (keyNode, value) in Map(path, node, Oidc, "single sign-on settings (issuer, client-id, client-secret-file, ...)").Children)
        {
            // The secret itself never sits in a file that is copied, backed up and shown around.
            if (keyNode is YamlScalarNode { Value: "client-secret" or "client_secret" or "clientSecret" })
            {
                throw Error(path, keyNode, $"{Oidc}.client-secret: the client secret does not go in this file; put it in a file of its own named by {Oidc}.client-secret-file (mode 0600), or in the environment as TRELLIS_OIDC_CLIENT_SECRET");
            }

            var key = Key(path, keyNode, OidcKeys, "oidc setting");
            var name = $"{Oidc}.{key}";
            if (OidcLists.Contains(key))
            {
                foreach (var item in List(path, value, name, "values, e.g. [openid, profile, email]").Children)
                {
                    Scalar(path, item, name);
                }
            }
            else
            {
                Scalar(path, value, name);
            }
        }
    }

    private static void CheckDns(string path, YamlNode node)
    {
        if (IsEmpty(node))
        {
            return;
        }

        var dns = Map(path, node, Dns, "DNS settings (base-domain, search-domains, nameservers, split-dns, extra-records)");
        foreach (var (keyNode, value) in dns.Children)
        {
            var key = Key(path, keyNode, DnsKeys, "dns setting");
            var name = $"{Dns}.{key}";
            switch (key)
            {
                case "base-domain":
                    Scalar(path, value, name);
                    break;
                case "search-domains" or "nameservers":
                    foreach (var item in List(path, value, name, "names or addresses, e.g. [9.9.9.9]").Children)
                    {
                        Scalar(path, item, name);
                    }

                    break;
                case "split-dns":
                    foreach (var (domain, servers) in Map(path, value, name, "domains, each with its nameservers, e.g. 'corp.example.com: [10.0.0.53]'").Children)
                    {
                        var at = $"{name} '{Scalar(path, domain, name)}'";
                        foreach (var item in List(path, servers, at, "nameservers, e.g. [10.0.0.53]").Children)
                        {
                            Scalar(path, item, at);
                        }
                    }

                    break;
                default:
                    foreach (var (record, address) in Map(path, value, name, "names, each with its address, e.g. 'printer.mesh.example.com: 100.64.9.9'").Children)
                    {
                        Scalar(path, address, $"{name} '{Scalar(path, record, name)}'");
                    }

                    break;
            }
        }
    }

    private static string Key(string path, YamlNode node, IEnumerable<string> valid, string what)
    {
        var key = node is YamlScalarNode { Value: { } text } ? text : throw Error(path, node, $"a {what} name must be a single word, not a list or map");
        if (valid.Contains(key, StringComparer.Ordinal))
        {
            return key;
        }

        var hyphenated = Hyphenated(key);
        var suggestion = valid.Contains(hyphenated, StringComparer.Ordinal) ? hyphenated : NearestName.Find(hyphenated, valid);
        throw Error(path, node, suggestion is null
            ? $"unknown {what} '{key}'; see {Example} for every setting"
            : $"unknown {what} '{key}'; did you mean '{suggestion}'?");
    }

    /// <summary>public_url and publicUrl both become public-url: the file's keys are kebab-case.</summary>
    private static string Hyphenated(string key)
    {
        var text = new StringBuilder(key.Length + 4);
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c is '_' or ' ')
            {
                text.Append('-');
            }
            else if (char.IsUpper(c))
            {
                if (i > 0 && key[i - 1] is not ('_' or '-' or ' ') && !char.IsUpper(key[i - 1]))
                {
                    text.Append('-');
                }

                text.Append(char.ToLowerInvariant(c));
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    private static YamlMappingNode Map(string path, YamlNode node, string name, string expected) =>
        node as YamlMappingNode ?? throw Error(path, node, $"{name} must be a map of {expected}, not {Kind(node)}");

    private static YamlSequenceNode List(string path, YamlNode node, string name, string expected) =>
        node as YamlSequenceNode ?? throw Error(path, node, $"{name} must be a list of {expected}, not {Kind(node)}");

    private static string Scalar(string path, YamlNode node, string name) =>
        node is YamlScalarNode scalar ? scalar.Value ?? "" : throw Error(path, node, $"{name} must be a single value, not {Kind(node)}");

    private static void WholeNumber(string path, YamlNode node, string name)
    {
        var text = Scalar(path, node, name);
        if (!int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _))
        {
            throw Error(path, node, $"{name}: '{text}' is not a whole number");
        }
    }

    private static void TrueOrFalse(string path, YamlNode node, string name)
    {
        var text = Scalar(path, node, name);
        if (text.ToLowerInvariant() is not ("true" or "false" or "yes" or "no" or "on" or "off" or "y" or "n"))
        {
            throw Error(path, node, $"{name}: '{text}' is not true or false");
        }
    }

    private static bool IsEmpty(YamlNode node) => node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or null };

    private static string Kind(YamlNode node) => node switch
    {
        YamlSequenceNode => "a list",
        YamlMappingNode => "a map",
        YamlScalarNode { Value: var v } => $"the single value '{v}'",
        _ => "this",
    };

    private static ServerConfigurationException Error(string path, YamlNode node, string message) => new($"{path}: {At(node.Start)}: {message}");

    private static string At(Mark mark) => $"line {mark.Line}, column {mark.Column}";

    /// <summary>The parser's own words (they describe YAML, not .NET), without its repeated position.</summary>
    private static string Plain(YamlException e)
    {
        var message = e.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && close > 0 ? message[(close + 3)..] : message;
    }
}
