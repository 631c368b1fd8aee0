using Microsoft.Extensions.Logging;
using Trellis.Control.Mesh;
using Trellis.Control.Sso;
using Trellis.Control.Store;
using Trellis.Core.Build;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// Where the store and the live mesh meet: every change is written to the store first, then the
/// one affected node is read back and its entry goes to <see cref="MeshState"/>, which reaches the
/// connected nodes. Read-back and publish are serialised per node, so the mesh ends as the store
/// ends: a change that lost a race to a deletion finds the node gone and publishes nothing.
/// The node protocol and the admin API both go through here.
/// </summary>
/// <param name="sso">Sign-ins in progress, when the server has single sign-on: a node registering without an auth key is given a link.</param>
public sealed partial class ControlService(ControlStore store, MeshState mesh, TimeProvider time, ILogger<ControlService> logger, SsoLogins? sso = null)
{
    // Guards each node's read-back-and-publish; striped so the set is bounded and never cleaned up.
    private readonly SemaphoreSlim[] _publishStripes = [.. Enumerable.Range(0, PublishStripeCount).Select(_ => new SemaphoreSlim(1, 1))];
    private const int PublishStripeCount = 64;

    public ControlStore Store => store;

    public MeshState Mesh => mesh;

    /// <summary>When this server loaded the mesh: nobody was watched before it (the ephemeral-node clock starts here).</summary>
    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>Every active node with a valid key joins the mesh (offline until it connects).</summary>
    /// <param name="markAllOffline">
    /// False for a replica starting beside others: their nodes are online, and only a replica that
    /// starts alone (<see cref="Replicas.ReplicaPresence"/>) knows nobody is connected.
    /// </param>
    public async Task LoadAsync(CancellationToken cancellationToken, bool markAllOffline = true)
    {
        StartedAt = time.GetUtcNow();
        if (markAllOffline)
        {
            await store.MarkAllOfflineAsync(cancellationToken).ConfigureAwait(false);
        }

        var nodes = await store.ListNodesAsync(null, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var node in nodes.Value ?? [])
        {
            if (IsInMesh(node, now))
            {
                mesh.Upsert(ToPeerInfo(node));
            }
        }
    }

    /// <summary>The node's entry; a node waiting for its first approval has no addresses yet.</summary>
    public static PeerInfo ToPeerInfo(Node node)
    {
        string[] addresses = node.HasAddresses ? [$"{node.IPv4}/32", $"{node.IPv6}/128"] : [];
        return new PeerInfo
        {
            Id = node.Id,
            Name = node.Name,
            NodeKey = node.NodeKey.ToBase64(),

            // A plain peer speaks no discovery: without a disco key no peer pings it.
            DiscoKey = node.IsPlainPeer ? "" : node.DiscoKey.ToBase64(),
            Addresses = addresses,
            AllowedIps = node.HasAddresses ? [.. addresses, .. node.ServedRoutes()] : [],
            Endpoints = node.Endpoints,
            HomeRelay = node.HomeRelay,
            Online = node.Online,

            // What the node's last connection said, which means nothing once it is gone.
            PeerRelay = node.Online && node.PeerRelay,
            MappingVaries = node.Online && node.MappingVaries,
            Gateway = node.GatewayId,
            User = node.User?.Name,
            Version = node.Version,
            Tags = node.Tags,
            KeyExpiry = node.KeyExpiry,
            UserGroups = PolicyGroupsOf(node.User),
        };
    }

    /// <summary>The policy's names for the groups the user's identity provider gave (eng becomes group:eng).</summary>
    private static string[] PolicyGroupsOf(User? user) =>
        user is null || user.IdentityGroups.Count == 0 ? [] : [.. user.IdentityGroups.Select(g => Policy.PolicyNames.GroupPrefix + g)];

    public async Task<RegisterResponse> RegisterAsync(Key machineKey, RegisterRequest request)
    {
        if (!Key.TryParseBase64(request.NodeKey, out var nodeKey) || !Key.TryParseBase64(request.DiscoKey, out var discoKey))
        {
            return Rejected("node and disco keys must be base64 keys of 32 bytes");
        }

        var result = await store.RegisterNodeAsync(new RegistrationRequest(
            request.AuthKey, machineKey, nodeKey, discoKey, request.Hostname, request.AdvertisedRoutes)).ConfigureAwait(false);
        switch (result)
        {
            case RegistrationResult.Registered registered:
                var published = await PublishAsync(registered.Node.Id).ConfigureAwait(false);
                if (registered.AuthKeyPrefix is { } keyPrefix)
                {
                    LogRegisteredWithKey(logger, registered.Node.Name, registered.Node.Id, keyPrefix);
                }
                else
                {
                    LogRegistered(logger, registered.Node.Name, registered.Node.Id);
                }

                var active = new RegisterResponse { Status = RegisterStatus.Active, Self = published is null ? ToPeerInfo(registered.Node) : ToPeerInfo(published) };
                return request.Renew == true ? WithRenewal(active, registered.Node) : active;
            case RegistrationResult.Pending pending:
                await PublishAsync(pending.Node.Id).ConfigureAwait(false);

                // A node that had an owner (or tags) keeps it on approval: asking for --user would mislead.
                var approve = pending.Node.UserId is null && pending.Node.Tags.Count == 0
                    ? $"an admin approves this node with: trellis nodes approve {pending.Node.Id} --user USER"
                    : $"an admin approves this node with: trellis nodes approve {pending.Node.Id}";
                var signIn = sso?.UrlFor(pending.Node.Id, pending.Node.NodeKey);
                return new RegisterResponse
                {
                    Status = RegisterStatus.Pending,
                    ApproveHint = signIn is null ? approve : $"sign in at {signIn} to register this node (or {approve})",
                    AuthUrl = signIn,
                    Self = ToPeerInfo(pending.Node),
                };
            case RegistrationResult.InvalidKey e:
                return Rejected(e.Reason);
            case RegistrationResult.ExpiredKey e:
                return Rejected(e.Reason);
            case RegistrationResult.KeyAlreadyUsed e:
                return Rejected(e.Reason);
            case RegistrationResult.NodeKeyExpired e:
                return Rejected(e.Reason, ControlErrorCodes.NodeKeyExpired);
            case RegistrationResult.Rejected e:
                return Rejected(e.Reason);
            default:
                return Rejected("registration failed");
        }
    }

    /// <summary>
    /// The answer to a node asking to renew its key ahead of its expiry: a sign-in link for its owner
    /// when a sign-in can renew it, else how it can be renewed. The node stays active either way.
    /// </summary>
    private RegisterResponse WithRenewal(RegisterResponse active, Node node)
    {
        const string withAuthKey = "register it again with an auth key: trellis up --force-reauth --authkey KEY";
        if (node.KeyExpiry is null)
        {
            return active with { ApproveHint = "this node's key never expires (the server's node-key-expiry is off): there is nothing to renew" };
        }

        if (sso is null)
        {
            return active with { ApproveHint = $"this server has no single sign-on; to renew this node's key, {withAuthKey}" };
        }

        if (node.User is not { IdentityIssuer: not null } owner)
        {
            return active with { ApproveHint = $"this node is not owned by a person who signs in (it is tagged or was registered with an auth key); to renew its key, {withAuthKey}" };
        }

        var link = sso.UrlFor(node.Id, node.NodeKey);
        return link is null
            ? active with { ApproveHint = "too many sign-ins are in progress on the server; try again in a few minutes" }
            : active with { AuthUrl = link, ApproveHint = $"to renew this node's key, sign in as {owner.Name} at {link}" };
    }

    private static RegisterResponse Rejected(string reason, string? code = null) => new() { Status = RegisterStatus.Rejected, Error = reason, Code = code };

    /// <summary>Opens the node's map stream, or says why it may not have one.</summary>
    public async Task<(MeshSession? Session, ErrorMessage? Error)> OpenMapAsync(Key machineKey, MapRequest request)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        var error = node switch
        {
            null => new ErrorMessage { Code = ControlErrorCodes.NotRegistered, Message = "this machine is not registered; send a register request first" },
            { Status: NodeStatus.Pending } => new ErrorMessage { Code = ControlErrorCodes.Pending, Message = "this node waits for an admin's approval" },
            _ when node.IsExpired(time.GetUtcNow()) => ExpiredError(),
            _ => null,
        };
        if (error is not null)
        {
            return (null, error);
        }

        if (request.Version is { } version && !NodeVersion.IsValid(version))
        {
            return (null, new ErrorMessage { Code = ControlErrorCodes.Invalid, Message = NodeVersion.Problem(version) });
        }

        var reachability = await store.SetReachabilityAsync(node!.Id, request.Endpoints, request.HomeRelay, request.PeerRelay, request.MappingVaries).ConfigureAwait(false);
        if (!reachability.Succeeded)
        {
            return (null, reachability.Error == StoreError.NotFound ? NotActive() : new ErrorMessage { Code = ControlErrorCodes.Invalid, Message = reachability.Message });
        }

        await store.SetConnectedAsync(node.Id, request.Version, time.GetUtcNow()).ConfigureAwait(false);

        // The stream opens under the node's publish guard: a deletion racing it either comes
        // first (nothing to connect) or after (and ends the stream it finds).
        var stripe = PublishStripeOf(node.Id);
        await stripe.WaitAsync().ConfigureAwait(false);
        try
        {
            var fresh = await PublishLockedAsync(node.Id, null).ConfigureAwait(false);
            return fresh is null ? (null, NotActive()) : (mesh.Connect(node.Id, request.Protocol, request.Resume), null);
        }
        finally
        {
            stripe.Release();
        }
    }

    /// <summary>
    /// The node reports how to reach it. Stored first, then the node as the store now holds it is
    /// published: an admin's delete, rename or route change that landed meanwhile stays.
    /// </summary>
    public async Task<ErrorMessage?> UpdateEndpointsAsync(Key machineKey, EndpointUpdate update)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        if (node is null || !IsInMesh(node, time.GetUtcNow()))
        {
            return NotActive();
        }

        var stored = await store.SetReachabilityAsync(node.Id, update.Endpoints, update.HomeRelay, update.PeerRelay, update.MappingVaries).ConfigureAwait(false);
        if (!stored.Succeeded)
        {
            return stored.Error == StoreError.NotFound ? NotActive() : new ErrorMessage { Code = ControlErrorCodes.Invalid, Message = stored.Message };
        }

        return await PublishAsync(node.Id).ConfigureAwait(false) is null ? NotActive() : null;
    }

    public async Task<ErrorMessage?> AdvertiseRoutesAsync(Key machineKey, RouteAdvertisement routes)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        if (node is null)
        {
            return new ErrorMessage { Code = ControlErrorCodes.NotRegistered, Message = "this machine is not registered" };
        }

        var updated = await store.SetAdvertisedRoutesAsync(node.Id, routes.Routes).ConfigureAwait(false);
        if (!updated.Succeeded)
        {
            return new ErrorMessage { Code = ControlErrorCodes.Invalid, Message = updated.Message };
        }

        await PublishAsync(node.Id).ConfigureAwait(false);
        return null;
    }

    public async Task LogoutAsync(Key machineKey)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        if (node is null)
        {
            return;
        }

        _ = node.Ephemeral ? await store.DeleteNodeAsync(node.Id).ConfigureAwait(false) : await store.ExpireNodeAsync(node.Id).ConfigureAwait(false);
        await PublishAsync(node.Id, "logged out").ConfigureAwait(false);
    }

    /// <summary>The node's stream ended: it is offline, unless a newer connection already replaced this one.</summary>
    public async Task DisconnectedAsync(MeshSession session)
    {
        if (!mesh.Disconnect(session))
        {
            // Replaced by a newer connection (which reports afresh), or removed from the mesh (which leaves its plain peers unreachable).
            if (mesh.Get(session.NodeId) is null)
            {
                await PlainPeersOfflineAsync(session.NodeId).ConfigureAwait(false);
            }

            return;
        }

        await store.SetOnlineAsync(session.NodeId, false, time.GetUtcNow()).ConfigureAwait(false);
        await PublishAsync(session.NodeId).ConfigureAwait(false);
        await PlainPeersOfflineAsync(session.NodeId).ConfigureAwait(false);
    }

    /// <summary>An admin deletes a node: its peers drop it and its own stream ends.</summary>
    public async Task<StoreResult<Node>> DeleteNodeAsync(long nodeId, CancellationToken cancellationToken = default)
    {
        var deleted = await store.DeleteNodeAsync(nodeId, cancellationToken).ConfigureAwait(false);
        if (deleted.Succeeded)
        {
            await PublishAsync(nodeId, "deleted by an admin").ConfigureAwait(false);
        }

        return deleted;
    }

    /// <summary>An admin expires a node's key: it leaves the mesh until it registers again with a new node key.</summary>
    public Task<StoreResult<Node>> ExpireNodeAsync(long nodeId, CancellationToken cancellationToken = default) =>
        ChangedAsync(store.ExpireNodeAsync(nodeId, cancellationToken), "key expired by an admin");

    public Task<StoreResult<Node>> RenameNodeAsync(long nodeId, string name, CancellationToken cancellationToken = default) =>
        ChangedAsync(store.RenameNodeAsync(nodeId, name, cancellationToken));

    public Task<StoreResult<Node>> ApproveNodeAsync(long nodeId, string? user, IReadOnlyList<string>? tags, CancellationToken cancellationToken = default) =>
        ChangedAsync(store.ApproveNodeAsync(nodeId, user, tags, cancellationToken));

    /// <summary>An admin replaces a node's tags; its peers' views and filters follow.</summary>
    public Task<StoreResult<Node>> TagNodeAsync(long nodeId, IReadOnlyList<string> tags, CancellationToken cancellationToken = default) =>
        ChangedAsync(store.SetNodeTagsAsync(nodeId, tags, cancellationToken));

    private async Task<StoreResult<Node>> ChangedAsync(Task<StoreResult<Node>> change, string? reason = null)
    {
        var changed = await change.ConfigureAwait(false);
        if (changed.Succeeded)
        {
            await PublishAsync(changed.Value.Id, reason).ConfigureAwait(false);
        }

        return changed;
    }

    /// <summary>
    /// Re-publishes a node after a store change made outside this service (route approval): its
    /// entry changes at once (keeping what its connection reported), and the store is then read
    /// back under the node's guard, so a snapshot that lost a race (to a deletion, say) is
    /// corrected by what the store holds now.
    /// </summary>
    public void Refresh(Node node)
    {
        if (IsInMesh(node, time.GetUtcNow()))
        {
            if (!mesh.ReplaceIfPresent(ToPeerInfo(node)))
            {
                mesh.Upsert(ToPeerInfo(node));
            }
        }
        else
        {
            mesh.Remove(node.Id, node.Status == NodeStatus.Pending ? "not approved" : "key expired", LeavingCode(node));
        }

        _ = ReconcileAsync(node.Id);
    }

    public void Removed(long nodeId, string reason) => mesh.Remove(nodeId, reason);

    /// <summary>
    /// Reads the node back and makes the mesh say what the store says; null when it is not in the
    /// mesh. <paramref name="reason"/> is what its stream is told if it leaves (else deleted, not
    /// approved or key expired, as the store says).
    /// </summary>
    public async Task<Node?> PublishAsync(long nodeId, string? reason = null)
    {
        var stripe = PublishStripeOf(nodeId);
        await stripe.WaitAsync().ConfigureAwait(false);
        try
        {
            return await PublishLockedAsync(nodeId, reason).ConfigureAwait(false);
        }
        finally
        {
            stripe.Release();
        }
    }

    private async Task<Node?> PublishLockedAsync(long nodeId, string? reason)
    {
        var node = await store.GetNodeByIdAsync(nodeId).ConfigureAwait(false);
        Observed(nodeId, node);
        if (node is not null && IsInMesh(node, time.GetUtcNow()))
        {
            mesh.Upsert(ToPeerInfo(node));
            return node;
        }

        mesh.Remove(
            nodeId,
            reason ?? node switch
            {
                null => "deleted",
                { Status: NodeStatus.Pending } => "not approved",
                _ => "key expired",
            },
            node is null ? ControlErrorCodes.StreamEnded : LeavingCode(node));
        return null;
    }

    private async Task ReconcileAsync(long nodeId)
    {
        try
        {
            await PublishAsync(nodeId).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The next change of this node publishes it again; nothing waits for this one.
            LogReconcileFailed(logger, nodeId, e);
        }
    }

    private SemaphoreSlim PublishStripeOf(long nodeId) => _publishStripes[(int)((ulong)nodeId % PublishStripeCount)];

    private static bool IsInMesh(Node node, DateTimeOffset now) => node.Status == NodeStatus.Active && node.HasAddresses && !node.IsExpired(now);

    /// <summary>An active node leaving because its key expired is asked to come back with a new key; any other leaves for good.</summary>
    private string LeavingCode(Node node) =>
        node.Status == NodeStatus.Active && node.IsExpired(time.GetUtcNow()) ? ControlErrorCodes.NodeKeyExpired : ControlErrorCodes.StreamEnded;

    private static ErrorMessage NotActive() => new() { Code = ControlErrorCodes.NotActive, Message = "this node is not active" };

    private static ErrorMessage ExpiredError() => new()
    {
        Code = ControlErrorCodes.NodeKeyExpired,
        Message = "this node's key expired; generate a new node key and register again with it (and an auth key, or wait for an admin's approval)",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} ({Id}) registered with auth key {AuthKey}")]
    private static partial void LogRegisteredWithKey(ILogger logger, string name, long id, string authKey);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} ({Id}) registered again by its machine key, without an auth key")]
    private static partial void LogRegistered(ILogger logger, string name, long id);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not read node {Id} back to publish it; its next change will")]
    private static partial void LogReconcileFailed(ILogger logger, long id, Exception exception);
}
