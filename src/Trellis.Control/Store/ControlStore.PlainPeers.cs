using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Control.Store;

// Plain WireGuard peers and the gateways they enter through.
public sealed partial class ControlStore
{
    /// <summary>
    /// Registers a device that runs only a stock WireGuard client: active at once (an admin asks for
    /// it), owned by <see cref="PlainPeerRequest.User"/>, with overlay addresses, behind a gateway.
    /// Nothing is written unless every check passes.
    /// </summary>
    public async Task<StoreResult<Node>> AddPlainPeerAsync(PlainPeerRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var name = request.Name?.ToLowerInvariant();
        if (!DnsNames.IsValidLabel(name))
        {
            return StoreFailure.Invalid(
                $"invalid node name '{request.Name}': use 1 to {DnsNames.MaxLabelLength} letters, digits or hyphens, not starting or ending with a hyphen");
        }

        if (request.PublicKey.IsZero)
        {
            return StoreFailure.Invalid("the public key is all zeros; give the device's WireGuard public key (wg pubkey < private.key)");
        }

        var ula = await GetUlaPrefixAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync<Node>(
            async (db, ct) =>
            {
                var (owner, noUser) = await FindUserAsync(db, request.User, ct).ConfigureAwait(false);
                if (noUser is not null)
                {
                    return noUser.Error == StoreError.NotFound
                        ? StoreFailure.NotFound($"{noUser.Message}; create it first (trellis users create {request.User})")
                        : noUser;
                }

                var (gateway, noGateway) = await FindGatewayAsync(db, request.Gateway, ct).ConfigureAwait(false);
                if (noGateway is not null)
                {
                    return noGateway;
                }

                if (await db.Nodes.AnyAsync(n => n.NodeKey == request.PublicKey, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict("another node already has that public key; each device needs a key of its own (wg genkey)");
                }

                if (await db.Nodes.AnyAsync(n => n.Name == name, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict($"another node is already named '{name}'");
                }

                var node = new Node
                {
                    // Keys nobody holds: the device can never open a control connection as this node.
                    MachineKey = X25519.PublicKey(X25519.GeneratePrivateKey()),
                    DiscoKey = X25519.PublicKey(X25519.GeneratePrivateKey()),
                    NodeKey = request.PublicKey,
                    Name = name!,
                    UserId = owner!.Id,
                    User = owner,
                    Status = NodeStatus.Active,
                    CreatedAt = Now(),
                    GatewayId = gateway!.Id,
                };
                if (!await AssignAddressesAsync(db, node, ula, ct).ConfigureAwait(false))
                {
                    return StoreFailure.Conflict(NoFreeAddress());
                }

                db.Nodes.Add(node);
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken,
            allocates: true).ConfigureAwait(false);
    }

    /// <summary>Lets a node serve plain peers, or stops it; a gateway that still serves some cannot stop.</summary>
    public Task<StoreResult<Node>> SetGatewayAsync(long nodeId, bool enabled, string? endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not null && !GatewayEndpoints.IsValid(endpoint))
        {
            return Task.FromResult<StoreResult<Node>>(StoreFailure.Invalid(
                $"invalid endpoint '{endpoint}': expected host:port or ip:port, with IPv6 in brackets, e.g. vpn.example.com:41641"));
        }

        return WriteAsync<Node>(
            async (db, ct) =>
            {
                var node = await LoadNodeForUpdateAsync(db, nodeId, ct).ConfigureAwait(false);
                if (node is null)
                {
                    return NoSuchNode(nodeId);
                }

                if (node.IsPlainPeer)
                {
                    return StoreFailure.Conflict($"{node.Name} is a plain WireGuard peer; only a Trellis node can be a gateway");
                }

                if (!enabled && await db.Nodes.AnyAsync(n => n.GatewayId == nodeId, ct).ConfigureAwait(false))
                {
                    return StoreFailure.InUse($"{node.Name} still serves plain WireGuard peers; delete them or move them first (trellis nodes list)");
                }

                node.WireGuardGateway = enabled;
                node.GatewayEndpoint = enabled ? endpoint ?? node.GatewayEndpoint : null;
                await db.SaveChangesAsync(ct).ConfigureAwait(false);
                return StoreResult<Node>.Ok(node);
            },
            cancellationToken);
    }

    /// <summary>The plain peers a gateway serves.</summary>
    public async Task<IReadOnlyList<long>> PlainPeersOfAsync(long gatewayId, CancellationToken cancellationToken = default)
    {
        await using var db = await _contexts.CreateDbContextAsync(cancellationToken).ConfigureAwait(false);
        return await db.Nodes.Where(n => n.GatewayId == gatewayId).Select(n => n.Id).ToListAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The named gateway (an id or a name), or the only one there is; it must be able to serve now.</summary>
    private async Task<(Node? Gateway, StoreFailure? Failure)> FindGatewayAsync(TrellisDbContext db, string? reference, CancellationToken ct)
    {
        Node? gateway;
        if (reference is null)
        {
            var gateways = await db.Nodes.Where(n => n.WireGuardGateway).Take(2).ToListAsync(ct).ConfigureAwait(false);
            if (gateways.Count != 1)
            {
                return (null, StoreFailure.Invalid(gateways.Count == 0
                    ? "no node serves plain WireGuard peers yet; make one a gateway first (trellis nodes gateway NODE on)"
                    : "several nodes serve plain WireGuard peers; choose one with --gateway NODE"));
            }

            gateway = gateways[0];
        }
        else
        {
            gateway = long.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? await db.Nodes.SingleOrDefaultAsync(n => n.Id == id, ct).ConfigureAwait(false)
                : await db.Nodes.SingleOrDefaultAsync(n => n.Name == reference.ToLowerInvariant(), ct).ConfigureAwait(false);
            if (gateway is null)
            {
                return (null, StoreFailure.NotFound($"no node '{reference}' to be the gateway"));
            }
        }

        var cannot = gateway switch
        {
            { IsPlainPeer: true } => "it is a plain WireGuard peer itself",
            { WireGuardGateway: false } => $"it is not a gateway; make it one first (trellis nodes gateway {gateway.Name} on)",
            { Status: not NodeStatus.Active } or { HasAddresses: false } => "it is not active",
            _ when gateway.IsExpired(Now()) => "its key expired",
            _ when GatewayEndpoints.Choose(gateway) is null => $"it has reported no public endpoint that a device could dial; give one (trellis nodes gateway {gateway.Name} on --endpoint HOST:PORT)",
            _ => null,
        };
        return cannot is null ? (gateway, null) : (null, StoreFailure.Conflict($"{gateway.Name} cannot serve plain WireGuard peers: {cannot}"));
    }
}

/// <summary>An admin's request to register a plain WireGuard peer.</summary>
/// <param name="Gateway">A node id or name; null for the only gateway there is.</param>
public sealed record PlainPeerRequest(string Name, string User, Key PublicKey, string? Gateway);
