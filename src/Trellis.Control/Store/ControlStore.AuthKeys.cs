using Microsoft.EntityFrameworkCore;
using Trellis.Core.Keys;

namespace Trellis.Control.Store;

/// <summary>A newly created auth key and its full text, which is never retrievable again.</summary>
public sealed record CreatedAuthKey(AuthKey Key, string Plaintext);

// Auth keys.
public sealed partial class ControlStore
{
    /// <summary>
    /// Creates an auth key owned by <paramref name="user"/> or by <paramref name="tags"/> (exactly
    /// one of the two). The plaintext in the result is the only copy of the secret.
    /// </summary>
    public Task<StoreResult<CreatedAuthKey>> CreateAuthKeyAsync(
        string? user, IReadOnlyList<string>? tags, bool reusable, bool ephemeral, DateTimeOffset? expiresAt,
        CancellationToken cancellationToken = default)
    {
        if (!DnsNames.TryNormalizeTags(tags, out var normalizedTags, out var error))
        {
            return Task.FromResult<StoreResult<CreatedAuthKey>>(StoreFailure.Invalid(error));
        }

        if ((user is null) == (normalizedTags.Count == 0))
        {
            return Task.FromResult<StoreResult<CreatedAuthKey>>(
                StoreFailure.Invalid("an auth key is owned either by a user or by tags: give exactly one of the two"));
        }

        if (RefusedTag(user, normalizedTags) is { } refused)
        {
            return Task.FromResult<StoreResult<CreatedAuthKey>>(StoreFailure.Forbidden(refused));
        }

        var expiry = Timestamps.Normalize(expiresAt);
        return WriteAsync<CreatedAuthKey>(
            async (db, ct) =>
            {
                var now = Now();
                if (expiry <= now)
                {
                    return StoreFailure.Invalid($"the expiry {expiry:O} is already past");
                }

                User? owner = null;
                if (user is not null)
                {
                    (owner, var failure) = await FindUserAsync(db, user, ct).ConfigureAwait(false);
                    if (failure is not null)
                    {
                        return failure;
                    }
                }

                var (prefix, hash, plaintext) = SecretKeys.Issue(SecretKeys.AuthKind);
                var key = new AuthKey
                {
                    Prefix = prefix,
                    SecretHash = hash,
                    UserId = owner?.Id,
                    User = owner,
                    Reusable = reusable,
                    Ephemeral = ephemeral,
                    Tags = normalizedTags,
                    ExpiresAt = expiry,
                    CreatedAt = now,
                };
                db.AuthKeys.Add(key);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<CreatedAuthKey>.Ok(new CreatedAuthKey(key, plaintext));
            },
            cancellationToken);
    }

    /// <summary>All auth keys, or those of one user; owners included.</summary>
    public async Task<StoreResult<IReadOnlyList<AuthKey>>> ListAuthKeysAsync(string? user = null, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        var query = db.AuthKeys.AsNoTracking().Include(k => k.User).AsQueryable();
        if (user is not null)
        {
            var (owner, failure) = await FindUserAsync(db, user, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure;
            }

            query = query.Where(k => k.UserId == owner!.Id);
        }

        return StoreResult<IReadOnlyList<AuthKey>>.Ok(
            await query.OrderBy(k => k.Id).ToListAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Revokes a key: it registers nothing from now on. Nodes it registered stay.</summary>
    public Task<StoreResult<AuthKey>> ExpireAuthKeyAsync(string prefix, CancellationToken cancellationToken = default) =>
        WriteAsync<AuthKey>(
            async (db, ct) =>
            {
                var key = await db.AuthKeys.Include(k => k.User).SingleOrDefaultAsync(k => k.Prefix == prefix, ct).ConfigureAwait(false);
                if (key is null)
                {
                    return StoreFailure.NotFound($"no auth key with prefix '{prefix}'");
                }

                key.Revoked = true;
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<AuthKey>.Ok(key);
            },
            cancellationToken);

    /// <summary>
    /// Checks a presented auth key and claims one use of it, inside the caller's transaction.
    /// The claim is a conditional update, so of two transactions racing for a single-use key
    /// exactly one sees its row change; the other is told the key is used. The machine that used a
    /// single-use key may present it again (its node lost the reply): that claims nothing new.
    /// </summary>
    private async Task<(AuthKey? Key, RegistrationResult? Failure)> ClaimAuthKeyAsync(
        TrellisDbContext db, string plaintext, Key machineKey, DateTimeOffset now, CancellationToken ct)
    {
        if (!SecretKeys.TryParse(plaintext, SecretKeys.AuthKind, out var prefix, out var secret))
        {
            return (null, new RegistrationResult.InvalidKey("malformed auth key: expected trellis-auth-{prefix}-{secret}"));
        }

        var key = await db.AuthKeys.AsNoTracking().Include(k => k.User)
            .SingleOrDefaultAsync(k => k.Prefix == prefix, ct).ConfigureAwait(false);
        if (key is null || !SecretKeys.Matches(secret, key.SecretHash))
        {
            return (null, new RegistrationResult.InvalidKey("unknown auth key"));
        }

        if (key.Revoked)
        {
            return (null, new RegistrationResult.ExpiredKey($"auth key {prefix} was revoked"));
        }

        if (key.ExpiresAt is { } expiry && expiry <= now)
        {
            return (null, new RegistrationResult.ExpiredKey($"auth key {prefix} expired at {expiry:O}"));
        }

        var claimed = await db.AuthKeys
            .Where(k => k.Id == key.Id && !k.Revoked && (k.Reusable || k.UseCount == 0))
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.UseCount, k => k.UseCount + 1), ct).ConfigureAwait(false);
        if (claimed == 0
            && await db.Nodes.AnyAsync(n => n.MachineKey == machineKey && n.AuthKeyId == key.Id, ct).ConfigureAwait(false))
        {
            return (key, null);
        }

        if (claimed == 0)
        {
            return (null, new RegistrationResult.KeyAlreadyUsed($"single-use auth key {prefix} was already used"));
        }

        key.UseCount++;
        return (key, null);
    }
}
