using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

// Deployment settings chosen at first start and kept.
public sealed partial class ControlStore
{
    /// <summary>
    /// The deployment's IPv6 ULA /48: read from the database, or generated (RFC 4193) and stored
    /// on first use (<paramref name="preferred"/> when the configuration names one). Two servers
    /// starting at once agree: the loser of the insert reads the winner's.
    /// </summary>
    public async Task<IPNetwork> GetUlaPrefixAsync(CancellationToken cancellationToken = default) =>
        await GetUlaPrefixAsync(null, cancellationToken).ConfigureAwait(false);

    public async Task<IPNetwork> GetUlaPrefixAsync(IPNetwork? preferred, CancellationToken cancellationToken = default)
    {
        if (preferred is { } p && !OverlayAddresses.IsUlaPrefix(p))
        {
            throw new ArgumentException($"{p} is not an fd00::/8 /48 prefix", nameof(preferred));
        }

        if (_ulaPrefix is { } cached)
        {
            return cached.Value;
        }

        var text = await WriteAsync(
            async (db, ct) =>
            {
                var existing = await db.Settings.AsNoTracking()
                    .SingleOrDefaultAsync(s => s.Key == Setting.IPv6UlaPrefix, ct).ConfigureAwait(false);
                if (existing is not null)
                {
                    return existing.Value;
                }

                var generated = (preferred ?? OverlayAddresses.GenerateUlaPrefix()).ToString();
                db.Settings.Add(new Setting { Key = Setting.IPv6UlaPrefix, Value = generated });
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return generated;
            },
            _ => true,
            allocates: false,
            cancellationToken).ConfigureAwait(false);

        if (!IPNetwork.TryParse(text, out var prefix) || !OverlayAddresses.IsUlaPrefix(prefix))
        {
            throw new InvalidOperationException($"setting {Setting.IPv6UlaPrefix} holds '{text}', which is not an fd00::/8 /48 prefix");
        }

        _ulaPrefix = new StrongBox<IPNetwork>(prefix);
        return prefix;
    }

    /// <summary>A stored setting, or null.</summary>
    public async Task<string?> GetSettingAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var setting = await db.Settings.AsNoTracking().SingleOrDefaultAsync(s => s.Key == key, cancellationToken).ConfigureAwait(false);
        return setting?.Value;
    }
}
