using Microsoft.Extensions.Logging;
using Trellis.Control.Sso;
using Trellis.Control.Store;
using Trellis.Core.Keys;

namespace Trellis.Control.NodeProtocol;

// Single sign-on: a person's sign-in lets in the node that waits for it.
public sealed partial class ControlService
{
    /// <summary>
    /// Records the signed-in user (by issuer and subject; email and groups refreshed) and lets in the
    /// node that waited with <paramref name="nodeKey"/>, owned by that user; or renews the key of
    /// that user's active node (Renewed), which stays in the mesh throughout.
    /// </summary>
    public async Task<StoreResult<(Node Node, User User, bool Renewed)>> CompleteSignInAsync(long nodeId, Key nodeKey, SsoIdentity identity, TimeSpan? keyLifetime)
    {
        var user = await store.SignInUserAsync(identity.Issuer, identity.Subject, identity.Email, identity.PreferredName, identity.Groups).ConfigureAwait(false);
        if (!user.Succeeded)
        {
            return new StoreFailure(user.Error, user.Message);
        }

        var outcome = await store.CompleteSignInAsync(nodeId, nodeKey, user.Value.Id, keyLifetime).ConfigureAwait(false);
        if (!outcome.Succeeded)
        {
            return new StoreFailure(outcome.Error, outcome.Message);
        }

        await PublishAsync(nodeId).ConfigureAwait(false);

        // The groups may have changed: the user's other nodes are seen by the policy anew (a group taken away ends its access now).
        var owned = await store.ListNodesAsync(user.Value.Name).ConfigureAwait(false);
        foreach (var other in owned.Value ?? [])
        {
            if (other.Id != nodeId)
            {
                await PublishAsync(other.Id).ConfigureAwait(false);
            }
        }

        var (node, renewed) = outcome.Value;
        if (renewed)
        {
            LogRenewed(logger, node.Name, nodeId, user.Value.Name, node.KeyExpiry);
        }
        else
        {
            LogSignedIn(logger, node.Name, nodeId, user.Value.Name, identity.Issuer);
        }

        return StoreResult<(Node, User, bool)>.Ok((node, user.Value, renewed));
    }

    /// <summary>
    /// Records a person who signed in to the web console (by issuer and subject; email and groups
    /// refreshed) and, since their groups may have changed, has the policy see their nodes anew.
    /// </summary>
    public async Task<StoreResult<User>> SignInToConsoleAsync(SsoIdentity identity)
    {
        var user = await store.SignInUserAsync(identity.Issuer, identity.Subject, identity.Email, identity.PreferredName, identity.Groups).ConfigureAwait(false);
        if (!user.Succeeded)
        {
            return user;
        }

        var owned = await store.ListNodesAsync(user.Value.Name).ConfigureAwait(false);
        foreach (var node in owned.Value ?? [])
        {
            await PublishAsync(node.Id).ConfigureAwait(false);
        }

        return user;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} ({Id}) registered by single sign-on for user {User} of {Issuer}")]
    private static partial void LogSignedIn(ILogger logger, string name, long id, string user, string issuer);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} ({Id}): key renewed by {User}'s sign-in, now expires {Expiry:O}")]
    private static partial void LogRenewed(ILogger logger, string name, long id, string user, DateTimeOffset? expiry);
}
