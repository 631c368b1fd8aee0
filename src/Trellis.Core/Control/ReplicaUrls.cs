namespace Trellis.Core.Control;

/// <summary>
/// The control URLs of a server's running replicas, as a map carries them (<see cref="FullMap.Replicas"/>,
/// <see cref="MapDelta.Replicas"/>): each one's configured public URL, so a node whose replica goes
/// can dial another it was never told about. The list only names where to dial: a node still
/// completes the Noise handshake against the server key it pinned, which every replica shares.
/// </summary>
public static class ReplicaUrls
{
    /// <summary>At most this many are sent, and a node keeps no more than this many.</summary>
    public const int MaxCount = 16;

    /// <summary>A longer URL is dropped: nothing an operator configures is this long.</summary>
    public const int MaxLength = 2048;

    /// <summary>
    /// The URLs a node may dial, in order: absolute http(s) URLs with a host, at most
    /// <see cref="MaxLength"/> characters, each once, the first <see cref="MaxCount"/>. Anything else
    /// in the list is left out rather than refusing the map: the list is a hint, the map is not.
    /// </summary>
    public static IReadOnlyList<Uri> Parse(IReadOnlyList<string>? urls)
    {
        if (urls is null || urls.Count == 0)
        {
            return [];
        }

        var parsed = new List<Uri>(Math.Min(urls.Count, MaxCount));
        foreach (var text in urls)
        {
            if (parsed.Count == MaxCount)
            {
                break;
            }

            if (text is { Length: > 0 and <= MaxLength }
                && Uri.TryCreate(text, UriKind.Absolute, out var url)
                && url.Scheme is "http" or "https"
                && url.Host.Length > 0
                && !parsed.Contains(url))
            {
                parsed.Add(url);
            }
        }

        return parsed;
    }
}
