using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

/// <summary>A newly created API key and its full text, which is never retrievable again.</summary>
public sealed record CreatedApiKey(ApiKey Key, string Plaintext);

// Admin API keys.
public sealed partial class ControlStore
{
    public Task<StoreResult<CreatedApiKey>> CreateApiKeyAsync(DateTimeOffset? expiresAt = null, CancellationToken cancellationToken = default)
    {
        var expiry = Timestamps.Normalize(expiresAt);
        return WriteAsync<CreatedApiKey>(
            async (db, ct) =>
            {
                var now = Now();
                if (expiry <= now)
                {
                    return StoreFailure.Invalid($"the expiry {expiry:O} is already past");
                }

                var (prefix, hash, plaintext) = SecretKeys.Issue(SecretKeys.ApiKind);
                var key = new ApiKey { Prefix = prefix, SecretHash = hash, ExpiresAt = expiry, CreatedAt = now };
                db.ApiKeys.Add(key);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<CreatedApiKey>.Ok(new CreatedApiKey(key, plaintext));
            },
            cancellationToken);
    }

    /// <summary>
    /// Whether the presented key is a live API key (secret compared in constant time, not expired);
    /// records its use.
    /// </summary>
    public async Task<bool> ValidateApiKeyAsync(string? plaintext, CancellationToken cancellationToken = default)
    {
        if (!SecretKeys.TryParse(plaintext, SecretKeys.ApiKind, out var prefix, out var secret))
        {
            return false;
        }

        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var key = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Prefix == prefix, cancellationToken).ConfigureAwait(false);
        var now = Now();
        if (key is null || !SecretKeys.Matches(secret, key.SecretHash) || key.ExpiresAt <= now)
        {
            return false;
        }

        await db.ApiKeys.Where(k => k.Id == key.Id)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>When the API key with this prefix ends; null when there is none or it has ended (a key without an expiry ends never: DateTimeOffset.MaxValue).</summary>
    public async Task<DateTimeOffset?> ApiKeyEndAsync(string prefix, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var key = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Prefix == prefix, cancellationToken).ConfigureAwait(false);
        var end = key is null ? (DateTimeOffset?)null : key.ExpiresAt ?? DateTimeOffset.MaxValue;
        return end > Now() ? end : null;
    }

    public async Task<IReadOnlyList<ApiKey>> ListApiKeysAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.ApiKeys.AsNoTracking().OrderBy(k => k.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends an API key now (an earlier expiry is kept).</summary>
    public Task<StoreResult<ApiKey>> ExpireApiKeyAsync(string prefix, CancellationToken cancellationToken = default) =>
        WriteAsync<ApiKey>(
            async (db, ct) =>
            {
                var key = await db.ApiKeys.SingleOrDefaultAsync(k => k.Prefix == prefix, ct).ConfigureAwait(false);
                if (key is null)
                {
                    return StoreFailure.NotFound($"no API key with prefix '{prefix}'");
                }

                var now = Now();
                if (key.ExpiresAt is not { } expiry || expiry > now)
                {
                    key.ExpiresAt = now;
                }

                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<ApiKey>.Ok(key);
            },
            cancellationToken);
}
