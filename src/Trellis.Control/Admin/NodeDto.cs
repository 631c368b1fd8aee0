using System.Text.Json.Serialization;
using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>
/// A node as admins see it. Keys are the public halves; the server never holds private ones.
/// Addresses are null while a node waits for its first approval.
/// </summary>
public sealed record NodeDto(
    long Id,
    string Name,
    string? User,
    IReadOnlyList<string> Tags,
    string Status,
    [property: JsonPropertyName("ipv4")] string? IPv4,
    [property: JsonPropertyName("ipv6")] string? IPv6,
    string MachineKey,
    string NodeKey,
    bool Online,
    DateTimeOffset? LastSeen,
    DateTimeOffset? KeyExpiry,
    bool Expired,
    bool Ephemeral,
    IReadOnlyList<string> Endpoints,
    int HomeRelay,
    IReadOnlyList<string> AdvertisedRoutes,
    IReadOnlyList<string> ApprovedRoutes,
    DateTimeOffset CreatedAt,
    bool WireGuardGateway = false,
    long? Gateway = null,
    string? GatewayName = null,
    bool? GatewayOnline = null,
    string? Version = null)
{
    public const string Active = "active";
    public const string Pending = "pending";

    /// <summary>
    /// An expired node is never shown online (its connection may not have closed yet); an online node
    /// was last seen now, a plain WireGuard peer at its latest handshake. <paramref name="gateway"/>:
    /// a plain peer's gateway, whose name and presence are shown with it (unreachable while it is offline).
    /// </summary>
    public static NodeDto From(Node node, DateTimeOffset now, Node? gateway = null)
    {
        var expired = node.IsExpired(now);
        var online = node.Online && !expired;
        var dto = From(node, online, online && !node.IsPlainPeer ? now : node.LastSeen, expired);
        return gateway is null || gateway.Id != node.GatewayId ? dto : dto with { GatewayName = gateway.Name, GatewayOnline = gateway.Online && !gateway.IsExpired(now) };
    }

    private static NodeDto From(Node node, bool online, DateTimeOffset? lastSeen, bool expired) => new(
        node.Id,
        node.Name,
        node.User?.Name,
        node.Tags,
        node.Status == NodeStatus.Active ? Active : Pending,
        node.IPv4?.ToString(),
        node.IPv6?.ToString(),
        node.MachineKey.ToBase64(),
        node.NodeKey.ToBase64(),
        online,
        lastSeen,
        node.KeyExpiry,
        expired,
        node.Ephemeral,
        node.Endpoints,
        node.HomeRelay,
        node.AdvertisedRoutes,
        node.ApprovedRoutes,
        node.CreatedAt,
        node.WireGuardGateway,
        node.GatewayId,
        Version: node.Version);
}
