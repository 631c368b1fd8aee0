using Microsoft.EntityFrameworkCore;
using Trellis.Control.Policy;

namespace Trellis.Control.Store;

// The access policy's text, as an admin set it. Compiling and enforcing it is the caller's job:
// only a policy that compiled is ever written here.
public sealed partial class ControlStore
{
    private volatile IAccessPolicy _accessPolicy = AllowAllPolicy.Instance;

    /// <summary>
    /// The policy in force, which the store asks who may put a tag on a node (auth keys, the tag
    /// endpoint) and which advertised routes it approves. Set by the policy service on every change.
    /// </summary>
    public IAccessPolicy AccessPolicy
    {
        get => _accessPolicy;
        set => _accessPolicy = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>The first of <paramref name="tags"/> the policy does not let <paramref name="user"/> (null: an admin) apply, and why.</summary>
    internal string? RefusedTag(string? user, IEnumerable<string> tags)
    {
        var policy = _accessPolicy;
        foreach (var tag in tags)
        {
            if (!policy.MayApplyTag(user, tag))
            {
                var who = user is null ? "an admin" : $"user {user}";
                return $"the access policy does not let {who} apply {tag}: list it under tagOwners (\"{tag}\": [...]) with who may apply it";
            }
        }

        return null;
    }

    /// <summary>The stored policy, or null when none was ever set (or it was removed).</summary>
    public async Task<AccessPolicyRecord?> GetPolicyAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.AccessPolicies.AsNoTracking()
            .SingleOrDefaultAsync(p => p.Id == AccessPolicyRecord.SingletonId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces the policy text, recording who set it and when.</summary>
    public async Task<AccessPolicyRecord> SetPolicyAsync(string text, string updatedBy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(updatedBy);
        var by = updatedBy.Length > AccessPolicyRecord.MaxUpdatedByLength ? updatedBy[..AccessPolicyRecord.MaxUpdatedByLength] : updatedBy;
        var result = await WriteAsync<AccessPolicyRecord>(
            async (db, ct) =>
            {
                var record = await db.AccessPolicies.SingleOrDefaultAsync(p => p.Id == AccessPolicyRecord.SingletonId, ct).ConfigureAwait(false);
                if (record is null)
                {
                    record = new AccessPolicyRecord { Id = AccessPolicyRecord.SingletonId, Text = text, UpdatedBy = by };
                    db.AccessPolicies.Add(record);
                }

                (record.Text, record.UpdatedBy, record.UpdatedAt) = (text, by, Now());
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<AccessPolicyRecord>.Ok(record);
            },
            cancellationToken).ConfigureAwait(false);
        return result.Value!;
    }

    /// <summary>Removes the policy: every node reaches every other again. False when there was none.</summary>
    public async Task<bool> DeletePolicyAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.AccessPolicies.Where(p => p.Id == AccessPolicyRecord.SingletonId)
            .ExecuteDeleteAsync(cancellationToken).ConfigureAwait(false) > 0;
    }
}
