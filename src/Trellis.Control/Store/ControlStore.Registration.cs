using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

// Node registration: auth key check, re-registration, name and address allocation.
public sealed partial class ControlStore
{
    /// <summary>
    /// Registers a node, or updates the one that already has this machine key (node key rotation,
    /// re-authentication after expiry). With an auth key the node becomes active and owned by the
    /// key's user or tags; without one it is stored pending, with no addresses, until an admin
    /// approves it. The key check, the single-use claim and the address allocation share one
    /// transaction. A known machine keeps its name (an admin may have renamed it) and its addresses.
    /// </summary>
    public async Task<RegistrationResult> RegisterNodeAsync(RegistrationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.MachineKey.IsZero || request.NodeKey.IsZero || request.DiscoKey.IsZero)
        {
            return new RegistrationResult.Rejected("machine, node and disco keys must all be set");
        }

        if (!RoutePrefixes.TryNormalize(request.AdvertisedRoutes, out var routes, out var routeError))
        {
            return new RegistrationResult.Rejected(routeError);
        }

        if (await RouteOverlayConflictAsync(routes, cancellationToken).ConfigureAwait(false) is { } overlayConflict)
        {
            return new RegistrationResult.Rejected(overlayConflict);
        }

        var ula = await GetUlaPrefixAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAsync(
            (db, ct) => RegisterInTransactionAsync(db, request, routes, ula, ct),
            r => r.Succeeded,
            allocates: true,
            cancellationToken).ConfigureAwait(false);
    }

    private async Task<RegistrationResult> RegisterInTransactionAsync(
        TrellisDbContext db, RegistrationRequest request, List<string> routes, IPNetwork ula, CancellationToken ct)
    {
        var now = Now();
        AuthKey? key = null;
        if (request.AuthKey is not null)
        {
            (key, var failure) = await ClaimAuthKeyAsync(db, request.AuthKey, request.MachineKey, now, ct).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure;
            }

            // The policy may have changed since the key was made: its tags are judged now.
            if (RefusedTag(key!.User?.Name, key.Tags) is { } refused)
            {
                return new RegistrationResult.Rejected($"auth key {key.Prefix} tags its nodes, but {refused}; ask an admin to fix the policy or to create a key with allowed tags");
            }
        }

        if (await db.Nodes.AnyAsync(n => n.NodeKey == request.NodeKey && n.MachineKey != request.MachineKey, ct).ConfigureAwait(false))
        {
            return new RegistrationResult.Rejected("that node key belongs to another node; generate a new node key and register again");
        }

        // Peers find each other's disco messages by this key: two nodes holding one would hijack each other's paths.
        if (await db.Nodes.AnyAsync(n => n.DiscoKey == request.DiscoKey && n.MachineKey != request.MachineKey, ct).ConfigureAwait(false))
        {
            return new RegistrationResult.Rejected("that disco key belongs to another node; generate a new disco key and register again");
        }

        var node = await db.Nodes.Include(n => n.User)
            .SingleOrDefaultAsync(n => n.MachineKey == request.MachineKey, ct).ConfigureAwait(false);
        if (node is null)
        {
            if (key is null && await CountWaitingNodesAsync(db, ct).ConfigureAwait(false) >= _options.MaxPendingNodes)
            {
                return new RegistrationResult.Rejected(
                    $"{_options.MaxPendingNodes} nodes already wait for approval, the most this server accepts; register with an auth key (trellis authkeys create), or ask an admin to approve or delete waiting nodes (trellis nodes list)");
            }

            node = new Node
            {
                MachineKey = request.MachineKey,
                Name = await UniqueNodeNameAsync(db, DnsNames.SanitizeHostname(request.Hostname), ct).ConfigureAwait(false),
                Status = NodeStatus.Pending,
                CreatedAt = now,
            };
            db.Nodes.Add(node);
        }
        else if (node.Status == NodeStatus.Active && node.IsExpired(now) && node.NodeKey == request.NodeKey)
        {
            // An expired node key stays dead, whoever holds it: coming back takes a fresh one.
            // (A node already waiting with its fresh key may ask again with it: it is pending, not active.)
            return new RegistrationResult.NodeKeyExpired(
                $"this node's key expired at {node.KeyExpiry:O}; generate a new node key and register again with it");
        }

        node.NodeKey = request.NodeKey;
        node.DiscoKey = request.DiscoKey;
        node.AdvertisedRoutes = routes;
        if (key is not null)
        {
            // (Re-)authenticated: the key decides owner and lifetime afresh.
            node.UserId = key.UserId;
            node.User = key.UserId is null ? null : await db.Users.FindAsync([key.UserId], ct).ConfigureAwait(false);
            node.Tags = [.. key.Tags];
            node.Ephemeral = key.Ephemeral;
            node.AuthKeyId = key.Id;
            node.Status = NodeStatus.Active;
            node.KeyExpiry = NewKeyExpiry(now);
        }
        else if (node.IsExpired(now))
        {
            // The machine key proves identity, but an expired node must be let in again by a person.
            node.Status = NodeStatus.Pending;
        }

        if (node.Status == NodeStatus.Active)
        {
            if (!await AssignAddressesAsync(db, node, ula, ct).ConfigureAwait(false))
            {
                return new RegistrationResult.Rejected(NoFreeAddress());
            }

            ApplyAutoApprovals(node, _options.AutoApprovers);
        }

        await db.SaveChangesAsync(ct).ConfigureAwait(false);
        return node.Status == NodeStatus.Active
            ? new RegistrationResult.Registered(node, key?.Prefix)
            : new RegistrationResult.Pending(node);
    }

    /// <summary>Nodes that registered without an auth key and were never let in (they hold no addresses).</summary>
    private static Task<int> CountWaitingNodesAsync(TrellisDbContext db, CancellationToken ct) =>
        db.Nodes.CountAsync(n => n.Status == NodeStatus.Pending && n.IPv4 == null, ct);

    /// <summary>Gives a node its addresses the first time it is let in; false when the range is full.</summary>
    private async Task<bool> AssignAddressesAsync(TrellisDbContext db, Node node, IPNetwork ula, CancellationToken ct)
    {
        if (node.HasAddresses)
        {
            return true;
        }

        var ipv4 = await AllocateIPv4Async(db, ct).ConfigureAwait(false);
        if (ipv4 is null)
        {
            return false;
        }

        node.IPv4 = ipv4;
        node.IPv6 = OverlayAddresses.IPv6For(ula, ipv4);
        return true;
    }

    private string NoFreeAddress() =>
        $"no free address left in {_options.IPv4Range}; delete unused nodes (trellis nodes delete) or configure a larger ipv4-prefix";

    /// <summary>The lowest free address; a concurrent writer taking it too trips the unique index and retries.</summary>
    private async Task<IPAddress?> AllocateIPv4Async(TrellisDbContext db, CancellationToken ct)
    {
        var used = await db.Nodes.Where(n => n.IPv4 != null).Select(n => n.IPv4!).ToListAsync(ct).ConfigureAwait(false);
        return OverlayAddresses.LowestFreeIPv4(_options.IPv4Range, used);
    }

    /// <summary>The label itself if free, else the first free "{label}-{n}", found with one query.</summary>
    private static async Task<string> UniqueNodeNameAsync(TrellisDbContext db, string label, CancellationToken ct)
    {
        // Every candidate starts with this stem (suffixes up to 5 digits keep it whole).
        var stem = label.Length > DnsNames.MaxLabelLength - 6 ? label[..(DnsNames.MaxLabelLength - 6)] : label;
        var taken = (await db.Nodes
                .Where(n => n.Name.StartsWith(stem))
                .Select(n => n.Name)
                .ToListAsync(ct).ConfigureAwait(false))
            .ToHashSet(StringComparer.Ordinal);
        var candidate = label;
        for (var n = 1; taken.Contains(candidate); n++)
        {
            candidate = DnsNames.WithSuffix(label, n);
        }

        return candidate;
    }
}
