using Trellis.Core.Keys;

namespace Trellis.Relay.Server;

/// <summary>
/// The relay keys this relay expects of its mesh peers: the one pinned in a peer's URL, else the one
/// it presented when first seen (kept in a file when one is given, one "URL KEY" line each, so a
/// restart does not trust anew). A peer presenting another key is refused before it learns the mesh key.
/// </summary>
internal sealed class MeshPeerKeys
{
    private readonly string? _file;
    private readonly Lock _gate = new();

    // guarded by _gate
    private readonly Dictionary<string, Key> _known = new(StringComparer.Ordinal);

    public MeshPeerKeys(string? file)
    {
        _file = file;
        if (file is null || !File.Exists(file))
        {
            return;
        }

        var number = 0;
        foreach (var line in File.ReadLines(file))
        {
            number++;
            var text = line.Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            var parts = text.Split(' ', 2, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || !Key.TryParseBase64(parts[1], out var key))
            {
                throw new InvalidDataException($"{file} line {number} is not \"URL KEY\": fix or delete the line (the relay then trusts that peer's key on its next connection)");
            }

            _known[parts[0]] = key;
        }
    }

    /// <summary>Null when <paramref name="presented"/> is the key expected of <paramref name="url"/> (learning it on first sight), else why not.</summary>
    public string? Check(Uri url, Key? pinned, Key presented)
    {
        if (pinned is { } expected)
        {
            return expected == presented ? null
                : $"mesh peer {url} presented relay key {presented}, not the pinned {expected}; it was not sent the mesh key. "
                  + $"If that relay's key really changed, pin the new one: {url}#{presented}";
        }

        var name = url.ToString();
        lock (_gate)
        {
            if (_known.TryGetValue(name, out var known))
            {
                return known == presented ? null
                    : $"mesh peer {url} presented relay key {presented}, but it had key {known} when first seen{(_file is null ? "" : $" (kept in {_file})")}; it was not sent the mesh key. "
                      + $"If that relay's key really changed, pin the new one: {url}#{presented}{(_file is null ? "" : $", or delete its line from {_file}")}";
            }

            _known[name] = presented;
            if (_file is not null)
            {
                File.AppendAllText(_file, $"{name} {presented.ToBase64()}\n");
            }

            return null;
        }
    }
}
