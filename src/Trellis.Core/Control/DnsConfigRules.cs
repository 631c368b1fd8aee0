using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace Trellis.Core.Control;

/// <summary>
/// Checks a whole <see cref="DnsConfig"/> and returns it normalized (names lowercase, no trailing
/// dots), or the first problem in words a person can act on. The server runs it on its settings and
/// the node on every map, so neither trusts the other's text.
/// </summary>
public static class DnsConfigRules
{
    public static bool TryNormalize(DnsConfig config, [NotNullWhen(true)] out DnsConfig? normalized, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(config);
        normalized = null;
        if (!DomainNames.TryNormalize(config.BaseDomain, out var baseDomain, out error))
        {
            error = "base domain: " + error;
            return false;
        }

        if (config.SearchDomains.Count > DomainNames.MaxEntries || config.Nameservers.Count > DomainNames.MaxEntries
            || config.SplitDns.Count > DomainNames.MaxEntries || config.ExtraRecords.Count > DomainNames.MaxEntries)
        {
            error = $"at most {DomainNames.MaxEntries} search domains, nameservers, split domains and extra records each";
            return false;
        }

        var search = new List<string>();
        foreach (var domain in config.SearchDomains)
        {
            if (!DomainNames.TryNormalize(domain, out var d, out error))
            {
                error = "search domain: " + error;
                return false;
            }

            search.Add(d);
        }

        if (!TryNameservers(config.Nameservers, "nameserver", out var upstreams, out error))
        {
            return false;
        }

        var split = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
        foreach (var (domain, servers) in config.SplitDns)
        {
            if (!DomainNames.TryNormalize(domain, out var d, out error))
            {
                error = "split-DNS domain: " + error;
                return false;
            }

            if (servers is null || servers.Count is 0 or > DomainNames.MaxEntries)
            {
                error = $"split-DNS domain '{d}' needs 1 to {DomainNames.MaxEntries} nameservers";
                return false;
            }

            if (!TryNameservers(servers, $"split-DNS domain '{d}'", out var parsed, out error))
            {
                return false;
            }

            split[d] = parsed;
        }

        var extra = new List<DnsExtraRecord>();
        foreach (var record in config.ExtraRecords)
        {
            if (!DomainNames.TryNormalize(record?.Name, out var name, out error))
            {
                error = "extra record: " + error;
                return false;
            }

            if (!IPAddress.TryParse(record!.Address, out var address))
            {
                error = $"extra record '{name}': '{record.Address}' is not an IPv4 or IPv6 address";
                return false;
            }

            extra.Add(new DnsExtraRecord(name, address.ToString()));
        }

        normalized = new DnsConfig { BaseDomain = baseDomain, SearchDomains = search, Nameservers = upstreams, SplitDns = split, ExtraRecords = extra };
        return true;
    }

    private static bool TryNameservers(IReadOnlyList<string> servers, string what, out List<string> parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = [];
        foreach (var server in servers)
        {
            if (!DomainNames.TryParseNameserver(server, out var endpoint, out error))
            {
                error = $"{what}: {error}";
                return false;
            }

            parsed.Add(DomainNames.Describe(endpoint));
        }

        error = null;
        return true;
    }
}
