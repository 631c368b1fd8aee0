using Trellis.Core.Keys;

namespace Trellis.Relay.Server;

/// <summary>
/// A mesh peer as configured: its relay URL, optionally ending in <c>#KEY</c>, the peer's relay key
/// (base64 as `trellis relay` prints it, or hex) given out of band and pinned.
/// </summary>
public static class MeshPeerUrl
{
    /// <summary>Splits "https://relay2.example.com/relay#KEY" into the URL to dial and the pinned key (null: none given).</summary>
    public static bool TryParse(string text, out Uri url, out Key? pinned, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        url = null!;
        pinned = null;
        problem = null;
        var hash = text.IndexOf('#', StringComparison.Ordinal);
        var address = hash < 0 ? text : text[..hash];
        if (!Uri.TryCreate(address, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps))
        {
            problem = $"'{text}' must be a relay's http:// or https:// URL, optionally with its relay key, e.g. https://relay2.example.com/relay#<relay key>";
            return false;
        }

        url = parsed;
        if (hash < 0)
        {
            return true;
        }

        var keyText = Uri.UnescapeDataString(text[(hash + 1)..]);
        if (!Key.TryParseBase64(keyText, out var key) && !Key.TryParseHex(keyText, out key))
        {
            problem = $"'{keyText}' after the # in '{text}' is not a relay key: give the 44-character base64 key the peer prints as \"relay key\" (or 64 hex digits)";
            return false;
        }

        pinned = key;
        return true;
    }

    /// <summary>The URL to dial and its pinned key, for a URL already validated (a bad key fragment throws).</summary>
    public static (Uri Url, Key? Pinned) Split(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return TryParse(url.OriginalString, out var address, out var pinned, out var problem)
            ? (address, pinned)
            : throw new ArgumentException($"mesh peer {problem}", nameof(url));
    }
}
