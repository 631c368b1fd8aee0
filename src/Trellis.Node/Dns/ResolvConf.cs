using System.Net;
using System.Text;
using Trellis.Core.Control;

namespace Trellis.Node.Dns;

/// <summary>The text of resolv.conf: the nameservers it names, and the one Trellis writes.</summary>
internal static class ResolvConf
{
    /// <summary>The first line of a file Trellis wrote, so a leftover (after a crash) is recognised.</summary>
    public const string Marker = "# Written by trellis: the mesh resolver. The original comes back on `trellis down` or when the daemon stops.";

    /// <summary>glibc uses at most 3 nameservers and 6 search domains.</summary>
    private const int MaxSearch = 6;

    public static bool IsOurs(ReadOnlySpan<byte> content) => content.StartsWith(Encoding.UTF8.GetBytes(Marker));

    /// <summary>The "nameserver" lines' addresses, never the mesh resolver's own.</summary>
    public static IReadOnlyList<IPEndPoint> Nameservers(string text)
    {
        var result = new List<IPEndPoint>();
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1].Split('%')[0], out var address)
                && !MeshResolverAddress.All.Contains(address) && result.Count < DomainNames.MaxEntries)
            {
                result.Add(new IPEndPoint(address, 53));
            }
        }

        return result;
    }

    /// <summary>The file pointing at the mesh resolver, searching the base domain first; the original's options lines are kept.</summary>
    public static byte[] Render(DnsConfig config, string original)
    {
        var text = new StringBuilder();
        text.Append(Marker).Append('\n');
        text.Append("nameserver ").Append(MeshResolverAddress.IPv4).Append('\n');
        text.Append("nameserver ").Append(MeshResolverAddress.IPv6).Append('\n');
        var search = config.SearchDomains.Prepend(config.BaseDomain).Distinct().Take(MaxSearch);
        text.Append("search ").Append(string.Join(' ', search)).Append('\n');
        foreach (var line in original.Split('\n'))
        {
            if (line.StartsWith("options", StringComparison.Ordinal))
            {
                text.Append(line.TrimEnd()).Append('\n');
            }
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }
}
