using Microsoft.Extensions.Logging;
using Trellis.Control.Mesh;
using Trellis.Control.Store;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// Where the store and the live mesh meet: every change is written to the store first, then the
/// one affected node's entry goes to <see cref="MeshState"/>, which reaches the connected nodes.
/// The node protocol and the admin API both go through here.
/// </summary>
public sealed partial class ControlService(ControlStore store, MeshState mesh, TimeProvider time, ILogger<ControlService> logger)
{
    public ControlStore Store => store;

    public MeshState Mesh => mesh;

    /// <summary>Every active node with a valid key joins the mesh (offline until it connects).</summary>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await store.MarkAllOfflineAsync(cancellationToken).ConfigureAwait(false);
        var nodes = await store.ListNodesAsync(null, cancellationToken).ConfigureAwait(false);
        var now = time.GetUtcNow();
        foreach (var node in nodes.Value ?? [])
        {
            if (node.Status == NodeStatus.Active && !node.IsExpired(now))
            {
                mesh.Upsert(ToPeerInfo(node));
            }
        }
    }

    public static PeerInfo ToPeerInfo(Node node)
    {
        string[] addresses = [$"{node.IPv4}/32", $"{node.IPv6}/128"];
        return new PeerInfo
        {
            Id = node.Id,
            Name = node.Name,
            NodeKey = node.NodeKey.ToBase64(),
            DiscoKey = node.DiscoKey.ToBase64(),
            Addresses = addresses,
            AllowedIps = [.. addresses, .. node.ServedRoutes()],
            Endpoints = node.Endpoints,
            HomeRelay = node.HomeRelay,
            Online = node.Online,
            User = node.User?.Name,
            Tags = node.Tags,
        };
    }

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
                var info = ToPeerInfo(registered.Node);
                PublishKeepingLiveState(info);
                LogRegistered(logger, registered.Node.Name, registered.Node.Id);
                return new RegisterResponse { Status = "active", Self = info };
            case RegistrationResult.Pending pending:
                return new RegisterResponse
                {
                    Status = "pending",
                    ApproveHint = $"an admin approves this node with: trellis nodes approve {pending.Node.Id} --user USER",
                    Self = ToPeerInfo(pending.Node),
                };
            case RegistrationResult.InvalidKey e:
                return Rejected(e.Reason);
            case RegistrationResult.ExpiredKey e:
                return Rejected(e.Reason);
            case RegistrationResult.KeyAlreadyUsed e:
                return Rejected(e.Reason);
            case RegistrationResult.Rejected e:
                return Rejected(e.Reason);
            default:
                return Rejected("registration failed");
        }
    }

    private static RegisterResponse Rejected(string reason) => new() { Status = "rejected", Error = reason };

    /// <summary>Opens the node's map stream, or says why it may not have one.</summary>
    public async Task<(MeshSession? Session, ErrorMessage? Error)> OpenMapAsync(Key machineKey, MapRequest request)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        var error = node switch
        {
            null => new ErrorMessage { Code = "not-registered", Message = "this machine is not registered; send a register request first" },
            { Status: NodeStatus.Pending } => new ErrorMessage { Code = "pending", Message = "this node waits for an admin's approval" },
            _ when node.IsExpired(time.GetUtcNow()) => new ErrorMessage { Code = "expired", Message = "this node's key expired; register again" },
            _ => null,
        };
        if (error is not null)
        {
            return (null, error);
        }

        var endpoints = await store.SetEndpointsAsync(node!.Id, request.Endpoints).ConfigureAwait(false);
        if (!endpoints.Succeeded)
        {
            return (null, new ErrorMessage { Code = "invalid", Message = endpoints.Message });
        }

        await store.SetHomeRelayAsync(node.Id, request.HomeRelay).ConfigureAwait(false);
        await store.SetOnlineAsync(node.Id, true, time.GetUtcNow()).ConfigureAwait(false);
        var fresh = await store.GetNodeByIdAsync(node.Id).ConfigureAwait(false);
        mesh.Upsert(ToPeerInfo(fresh!));
        return (mesh.Connect(node.Id), null);
    }

    public async Task<ErrorMessage?> UpdateEndpointsAsync(Key machineKey, EndpointUpdate update)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        if (node is null || mesh.Get(node.Id) is not { } current)
        {
            return new ErrorMessage { Code = "not-active", Message = "this node is not active" };
        }

        var stored = await store.SetEndpointsAsync(node.Id, update.Endpoints).ConfigureAwait(false);
        if (!stored.Succeeded)
        {
            return new ErrorMessage { Code = "invalid", Message = stored.Message };
        }

        await store.SetHomeRelayAsync(node.Id, update.HomeRelay).ConfigureAwait(false);
        mesh.Upsert(current with { Endpoints = update.Endpoints, HomeRelay = update.HomeRelay });
        return null;
    }

    public async Task<ErrorMessage?> AdvertiseRoutesAsync(Key machineKey, RouteAdvertisement routes)
    {
        var node = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        if (node is null)
        {
            return new ErrorMessage { Code = "not-registered", Message = "this machine is not registered" };
        }

        var updated = await store.SetAdvertisedRoutesAsync(node.Id, routes.Routes).ConfigureAwait(false);
        if (!updated.Succeeded)
        {
            return new ErrorMessage { Code = "invalid", Message = updated.Message };
        }

        Refresh(updated.Value);
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
        mesh.Remove(node.Id, "logged out");
    }

    /// <summary>The node's stream ended: it is offline, unless a newer connection already replaced this one.</summary>
    public async Task DisconnectedAsync(MeshSession session)
    {
        if (!mesh.Disconnect(session))
        {
            return;
        }

        await store.SetOnlineAsync(session.NodeId, false, time.GetUtcNow()).ConfigureAwait(false);
        if (mesh.Get(session.NodeId) is { } current)
        {
            mesh.Upsert(current with { Online = false });
        }
    }

    /// <summary>Re-publishes a node after an admin or store change: active nodes join or update, others leave.</summary>
    public void Refresh(Node node)
    {
        if (node.Status == NodeStatus.Active && !node.IsExpired(time.GetUtcNow()))
        {
            PublishKeepingLiveState(ToPeerInfo(node));
        }
        else
        {
            mesh.Remove(node.Id, node.Status == NodeStatus.Pending ? "not approved" : "key expired");
        }
    }

    public void Removed(long nodeId, string reason) => mesh.Remove(nodeId, reason);

    /// <summary>
    /// Publishes a node's stored entry, keeping what its live connection reported last (online,
    /// endpoints, home relay): the store may lag the stream by one write.
    /// </summary>
    private void PublishKeepingLiveState(PeerInfo info) =>
        mesh.Upsert(mesh.Get(info.Id) is { } live ? info with { Online = live.Online, Endpoints = live.Endpoints, HomeRelay = live.HomeRelay } : info);

    [LoggerMessage(Level = LogLevel.Information, Message = "node {Name} ({Id}) registered")]
    private static partial void LogRegistered(ILogger logger, string name, long id);
}
