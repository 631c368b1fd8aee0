using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Trellis.Core.Control;

namespace Trellis.Node.Dns;

/// <summary>
/// What the resolver knows at one moment, built once per map and then only read: every node's
/// addresses by full name ("alpha.trellis.internal") and short name ("alpha"), the names of overlay
/// addresses for reverse lookups, the extra records, and where the rest goes (split domains, upstreams).
/// </summary>
internal sealed class MeshNames
{
    private const string ReverseV4Zone = "in-addr.arpa";
    private const string ReverseV6Zone = "ip6.arpa";
    private const string HexDigits = "0123456789abcdef";

    // Plain dictionaries, not frozen ones: freezing 20,000 names took longer than a lookup ever saves
    // on a resolver's query rate, and every map with a peer added or gone builds them again.
    private readonly Dictionary<string, IPAddress[]> _forward;
    private readonly Dictionary<string, string> _reverse;
    private readonly KeyValuePair<string, IPEndPoint[]>[] _split;

    private MeshNames(
        DnsConfig config,
        Dictionary<string, IPAddress[]> forward,
        Dictionary<string, string> reverse,
        KeyValuePair<string, IPEndPoint[]>[] split,
        IReadOnlyList<IPEndPoint> upstreams)
    {
        Config = config;
        _forward = forward;
        _reverse = reverse;
        _split = split;
        Upstreams = upstreams;
    }

    public DnsConfig Config { get; }

    public string BaseDomain => Config.BaseDomain;

    /// <summary>Where names outside the base and split domains go: the map's nameservers, else the host's original ones.</summary>
    public IReadOnlyList<IPEndPoint> Upstreams { get; }

    /// <summary>
    /// From a map whose <see cref="NetMap.Dns"/> <see cref="DnsConfigRules"/> has already normalized.
    /// Names that are not DNS labels are skipped (the server only hands out labels; a cached map may predate that).
    /// </summary>
    public static MeshNames Build(NetMap map, DnsConfig config, IReadOnlyList<IPEndPoint> hostNameservers)
    {
        var forward = new Dictionary<string, List<IPAddress>>(StringComparer.Ordinal);
        var reverse = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in map.Peers.Values.Prepend(map.Self))
        {
            if (NamesOf(node, config.BaseDomain) is not var (full, label, addresses))
            {
                continue;
            }

            foreach (var address in addresses)
            {
                Add(forward, full, address);
                Add(forward, label, address);
                reverse.TryAdd(ReverseName(address), full);
            }
        }

        foreach (var record in config.ExtraRecords)
        {
            Add(forward, record.Name, IPAddress.Parse(record.Address));
        }

        // The longest split domain wins, so "a.corp.example" can go elsewhere than "corp.example".
        var split = config.SplitDns
            .Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Select(Nameserver).ToArray()))
            .OrderByDescending(kv => kv.Key.Length)
            .ToArray();
        var upstreams = config.Nameservers.Count > 0 ? config.Nameservers.Select(Nameserver).ToList() : hostNameservers.ToList();
        return new MeshNames(
            config,
            forward.ToDictionary(kv => kv.Key, kv => kv.Value.ToArray(), StringComparer.Ordinal),
            reverse,
            split,
            upstreams);
    }

    /// <summary>
    /// These names with the peers a delta removed, added or renamed (a changed peer's old entry comes out,
    /// its new one goes in): the dictionaries are copied, and only those peers are read. Null when that
    /// cannot give what <see cref="Build"/> would, because a name or address a peer brings or takes is
    /// shared with another node or an extra record (the whole map is built then).
    /// </summary>
    public MeshNames? With(IEnumerable<PeerInfo> removed, IEnumerable<PeerInfo> added)
    {
        var forward = new Dictionary<string, IPAddress[]>(_forward, StringComparer.Ordinal);
        var reverse = new Dictionary<string, string>(_reverse, StringComparer.Ordinal);
        foreach (var node in removed)
        {
            if (NamesOf(node, BaseDomain) is var (full, label, addresses) && !TryTake(forward, reverse, full, label, addresses))
            {
                return null;
            }
        }

        foreach (var node in added)
        {
            if (NamesOf(node, BaseDomain) is not var (full, label, addresses))
            {
                continue;
            }

            if (forward.ContainsKey(full) || forward.ContainsKey(label) || addresses.Any(a => reverse.ContainsKey(ReverseName(a))))
            {
                return null;
            }

            forward[full] = addresses;
            forward[label] = addresses;
            foreach (var address in addresses)
            {
                reverse[ReverseName(address)] = full;
            }
        }

        return new MeshNames(Config, forward, reverse, _split, Upstreams);
    }

    /// <summary>
    /// A node's full and short name and its addresses, each once; null when it has no usable name (the
    /// server only hands out labels; a cached map may predate that) or no address.
    /// </summary>
    private static (string Full, string Label, IPAddress[] Addresses)? NamesOf(PeerInfo node, string baseDomain)
    {
        if (!DomainNames.TryNormalize(node.Name, out var label, out _) || label.Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        var addresses = node.Addresses.Select(a => IPAddress.TryParse(a.Split('/')[0], out var ip) ? ip : null).OfType<IPAddress>().Distinct().ToArray();
        return addresses.Length == 0 ? null : (label + "." + baseDomain, label, addresses);
    }

    /// <summary>Takes a node's names out, when they are its alone; false otherwise.</summary>
    private static bool TryTake(Dictionary<string, IPAddress[]> forward, Dictionary<string, string> reverse, string full, string label, IPAddress[] addresses)
    {
        if (!forward.TryGetValue(full, out var byFull) || !forward.TryGetValue(label, out var byLabel)
            || !byFull.SequenceEqual(addresses) || !byLabel.SequenceEqual(addresses)
            || addresses.Any(a => reverse.GetValueOrDefault(ReverseName(a)) != full))
        {
            return false;
        }

        forward.Remove(full);
        forward.Remove(label);
        foreach (var address in addresses)
        {
            reverse.Remove(ReverseName(address));
        }

        return true;
    }

    /// <summary>A mesh name's addresses (both families); null when the name is not the mesh's.</summary>
    public IPAddress[]? Addresses(string name) => _forward.GetValueOrDefault(name);

    /// <summary>The full name of an overlay address, by its reverse name ("5.0.64.100.in-addr.arpa").</summary>
    public string? NameOf(string reverseName) => _reverse.GetValueOrDefault(reverseName);

    /// <summary>Whether the mesh answers for this name alone (the base domain and below).</summary>
    public bool IsAuthoritativeFor(string name) => DomainNames.IsWithin(name, BaseDomain);

    /// <summary>The nameservers of the split domain holding <paramref name="name"/>; null when none does.</summary>
    public IPEndPoint[]? SplitFor(string name)
    {
        foreach (var (domain, servers) in _split)
        {
            if (DomainNames.IsWithin(name, domain))
            {
                return servers;
            }
        }

        return null;
    }

    /// <summary>
    /// "4.3.2.1.in-addr.arpa", or an IPv6 address's 32 nibbles in reverse under ip6.arpa (RFC 3596),
    /// lower case without the final dot. Written here rather than taken from the DNS library's domain
    /// names, which cost several objects per address: a map names every peer's addresses.
    /// </summary>
    public static string ReverseName(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> v4 = stackalloc byte[4];
            address.TryWriteBytes(v4, out _);
            return string.Create(CultureInfo.InvariantCulture, $"{v4[3]}.{v4[2]}.{v4[1]}.{v4[0]}.{ReverseV4Zone}");
        }

        return string.Create(64 + ReverseV6Zone.Length, address, static (chars, address) =>
        {
            Span<byte> v6 = stackalloc byte[16];
            address.TryWriteBytes(v6, out _);
            for (var i = 0; i < 16; i++)
            {
                var b = v6[15 - i];
                chars[i * 4] = HexDigits[b & 0xF];
                chars[(i * 4) + 1] = '.';
                chars[(i * 4) + 2] = HexDigits[b >> 4];
                chars[(i * 4) + 3] = '.';
            }

            ReverseV6Zone.CopyTo(chars[64..]);
        });
    }

    public static bool IsIPv4(IPAddress address) => address.AddressFamily == AddressFamily.InterNetwork;

    private static IPEndPoint Nameserver(string text) =>
        DomainNames.TryParseNameserver(text, out var endpoint, out var error) ? endpoint : throw new ArgumentException(error, nameof(text));

    private static void Add(Dictionary<string, List<IPAddress>> forward, string name, IPAddress address)
    {
        if (!forward.TryGetValue(name, out var list))
        {
            forward[name] = list = [];
        }

        if (!list.Contains(address))
        {
            list.Add(address);
        }
    }
}
