using Microsoft.EntityFrameworkCore;
using Trellis.Core.Keys;

namespace Trellis.Control.Store;

// Single sign-on: users keyed by their identity provider's issuer and subject, and the nodes they register.
public sealed partial class ControlStore
{
    /// <summary>
    /// The user of this issuer and subject, created on their first sign-in (named after the email's
    /// local part, or <paramref name="suggestedName"/>, with a suffix when taken); the email and
    /// groups are refreshed at every sign-in, so a group the provider took away is gone here too.
    /// Never found by email: an email can change hands, the subject cannot.
    /// </summary>
    public Task<StoreResult<User>> SignInUserAsync(
        string issuer, string subject, string? email, string? suggestedName, IReadOnlyList<string> groups, CancellationToken cancellationToken = default)
    {
        if (issuer.Length is 0 or > User.MaxIdentityLength || subject.Length is 0 or > User.MaxIdentityLength || email is { Length: > User.MaxIdentityLength })
        {
            return Task.FromResult<StoreResult<User>>(StoreFailure.Invalid($"the identity provider's issuer, subject and email must each be 1 to {User.MaxIdentityLength} characters"));
        }

        var sortedGroups = groups.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return WriteAsync<User>(
            async (db, ct) =>
            {
                var user = await db.Users.SingleOrDefaultAsync(u => u.IdentityIssuer == issuer && u.IdentitySubject == subject, ct).ConfigureAwait(false);
                if (user is null)
                {
                    var label = DnsNames.SanitizeHostname(email?.Split('@')[0] ?? suggestedName);
                    user = new User
                    {
                        Name = await UniqueUserNameAsync(db, label, ct).ConfigureAwait(false),
                        CreatedAt = Now(),
                        IdentityIssuer = issuer,
                        IdentitySubject = subject,
                    };
                    db.Users.Add(user);
                }

                user.Email = email;
                user.IdentityGroups = sortedGroups;
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<User>.Ok(user);
            },
            cancellationToken);
    }

    /// <summary>
    /// Lets in the node a person signed in for: it must still wait with the node key it had when
    /// the sign-in began (a node that changed its key since starts a new sign-in). It becomes the
    /// user's, takes its addresses, and its key lives <paramref name="keyLifetime"/> (null: the
    /// server's node-key-expiry). An active node whose key has not expired yet is renewed instead
    /// (<see cref="SignInOutcome.Renewed"/>): only by its owner, and it keeps everything but the expiry.
    /// </summary>
    public async Task<StoreResult<SignInOutcome>> CompleteSignInAsync(long nodeId, Key nodeKey, long userId, TimeSpan? keyLifetime, CancellationToken cancellationToken = default)
    {
        var ula = await GetUlaPrefixAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync<SignInOutcome>(
            async (db, ct) =>
            {
                var node = await LoadNodeForUpdateAsync(db, nodeId, ct).ConfigureAwait(false);
                if (node is null)
                {
                    return NoSuchNode(nodeId);
                }

                if (node.Status == NodeStatus.Active && node.NodeKey == nodeKey && !node.IsExpired(Now()))
                {
                    return await RenewBySignInAsync(db, node, userId, keyLifetime, ct).ConfigureAwait(false);
                }

                if (node.Status != NodeStatus.Pending || node.NodeKey != nodeKey)
                {
                    return StoreFailure.Conflict($"node {node.Name} no longer waits for this sign-in; run trellis up on it again");
                }

                var owner = await db.Users.FindAsync([userId], ct).ConfigureAwait(false);
                if (owner is null)
                {
                    return StoreFailure.NotFound($"no user {userId}");
                }

                if (!await AssignAddressesAsync(db, node, ula, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict(NoFreeAddress());
                }

                var now = Now();
                (node.User, node.UserId, node.Tags) = (owner, owner.Id, []);
                node.Status = NodeStatus.Active;
                node.KeyExpiry = keyLifetime is { } lifetime ? Timestamps.Normalize(now + lifetime) : NewKeyExpiry(now);
                ApplyAutoApprovals(node, _options.AutoApprovers);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<SignInOutcome>.Ok(new SignInOutcome(node, Renewed: false));
            },
            cancellationToken,
            allocates: true).ConfigureAwait(false);
    }

    /// <summary>
    /// The owner signed in again before the key expired: the key lives on from now, and the node,
    /// which never left the mesh, keeps its addresses, routes and key. Anyone else is refused: a
    /// renewal link in the wrong hands must not hand the node over (registering it anew would).
    /// </summary>
    private async Task<StoreResult<SignInOutcome>> RenewBySignInAsync(TrellisDbContext db, Node node, long userId, TimeSpan? keyLifetime, CancellationToken ct)
    {
        if (node.UserId != userId)
        {
            return StoreFailure.Conflict(node.UserId is null
                ? $"node {node.Name} is tagged, so no person's sign-in renews its key; register it again with an auth key (trellis up --force-reauth --authkey KEY)"
                : $"node {node.Name} belongs to {node.User?.Name}; only they can renew its key by signing in");
        }

        var now = Now();
        node.KeyExpiry = keyLifetime is { } lifetime ? Timestamps.Normalize(now + lifetime) : NewKeyExpiry(now);
        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return StoreResult<SignInOutcome>.Ok(new SignInOutcome(node, Renewed: true));
    }

    /// <summary>The label itself if no user has it, else the first free "{label}-{n}".</summary>
    private static async Task<string> UniqueUserNameAsync(TrellisDbContext db, string label, CancellationToken ct)
    {
        var stem = label.Length > DnsNames.MaxLabelLength - 6 ? label[..(DnsNames.MaxLabelLength - 6)] : label;
        var taken = (await db.Users.Where(u => u.Name.StartsWith(stem)).Select(u => u.Name).ToListAsync(ct).ConfigureAwait(false))
            .ToHashSet(StringComparer.Ordinal);
        var candidate = label;
        for (var n = 1; taken.Contains(candidate); n++)
        {
            candidate = DnsNames.WithSuffix(label, n);
        }

        return candidate;
    }
}
