namespace Trellis.Lab;

/// <summary>One peer as given to <c>wg set IFNAME peer …</c>.</summary>
/// <param name="PublicKey">The peer's public key, base64.</param>
public sealed record WireGuardPeerConfig(string PublicKey)
{
    /// <summary>Prefixes such as 192.168.241.2/32; replaces the peer's list when non-empty.</summary>
    public IReadOnlyList<string> AllowedIps { get; init; } = [];

    /// <summary>host:port or [v6]:port; none when null.</summary>
    public string? Endpoint { get; init; }

    /// <summary>Seconds; left unset when null (0 turns it off).</summary>
    public int? PersistentKeepalive { get; init; }

    internal IEnumerable<string> ToArguments()
    {
        yield return "peer";
        yield return PublicKey;
        if (AllowedIps.Count > 0)
        {
            yield return "allowed-ips";
            yield return string.Join(',', AllowedIps);
        }

        if (Endpoint is not null)
        {
            yield return "endpoint";
            yield return Endpoint;
        }

        if (PersistentKeepalive is int keepalive)
        {
            yield return "persistent-keepalive";
            yield return keepalive.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
