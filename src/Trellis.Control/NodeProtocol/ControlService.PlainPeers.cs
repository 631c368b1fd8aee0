using Trellis.Control.PlainPeers;
using Trellis.Control.Store;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Control.NodeProtocol;

/// <summary>Plain WireGuard peers: registered by an admin, published like any node, configured by text.</summary>
public sealed partial class ControlService
{
    /// <summary>
    /// Registers a plain peer with the device's own public key, or with a key pair generated here
    /// whose private half goes into the returned configuration only and is never stored.
    /// </summary>
    public async Task<StoreResult<PlainPeerConfig>> AddPlainPeerAsync(string name, string user, string? publicKey, string? gateway, CancellationToken cancellationToken = default)
    {
        Key? privateKey = null;
        Key key;
        if (publicKey is null)
        {
            privateKey = X25519.GeneratePrivateKey();
            key = X25519.PublicKey(privateKey.Value);
        }
        else if (!Key.TryParseBase64(publicKey.Trim(), out key))
        {
            return StoreFailure.Invalid("the public key is not a WireGuard key: expected 44 characters of base64, as `wg pubkey` prints it");
        }

        var added = await store.AddPlainPeerAsync(new PlainPeerRequest(name, user, key, gateway), cancellationToken).ConfigureAwait(false);
        if (!added.Succeeded)
        {
            return new StoreFailure(added.Error, added.Message);
        }

        await PublishAsync(added.Value.Id).ConfigureAwait(false);
        LogPlainPeerAdded(logger, added.Value.Name, added.Value.Id, added.Value.GatewayId!.Value);
        return await ConfigOfAsync(added.Value.Id, privateKey, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A plain peer's configuration again, without a private key (the server never keeps one).</summary>
    public Task<StoreResult<PlainPeerConfig>> PlainPeerConfigAsync(long nodeId, CancellationToken cancellationToken = default) =>
        ConfigOfAsync(nodeId, null, cancellationToken);

    /// <summary>An admin lets a node serve plain peers (or stops it); its map entry does not change, its plain peers' do not either.</summary>
    public Task<StoreResult<Node>> SetGatewayAsync(long nodeId, bool enabled, string? endpoint, CancellationToken cancellationToken = default) =>
        ChangedAsync(store.SetGatewayAsync(nodeId, enabled, endpoint, cancellationToken));

    private async Task<StoreResult<PlainPeerConfig>> ConfigOfAsync(long nodeId, Key? privateKey, CancellationToken cancellationToken)
    {
        var peer = await store.GetNodeByIdAsync(nodeId, cancellationToken).ConfigureAwait(false);
        if (peer is null)
        {
            return StoreFailure.NotFound($"no node with id {nodeId}");
        }

        if (peer.GatewayId is not { } gatewayId || !peer.HasAddresses)
        {
            return StoreFailure.Conflict($"{peer.Name} is a Trellis node, not a plain WireGuard peer: it needs no configuration file");
        }

        var gateway = await store.GetNodeByIdAsync(gatewayId, cancellationToken).ConfigureAwait(false);
        if (gateway is null || GatewayEndpoints.Choose(gateway) is not { } endpoint)
        {
            return StoreFailure.Conflict($"the gateway of {peer.Name} is gone or has no public endpoint; delete {peer.Name} and add it again through another gateway");
        }

        return StoreResult<PlainPeerConfig>.Ok(new PlainPeerConfig(peer, WireGuardConfigText.Build(peer, gateway, endpoint, mesh.OverlayPrefixes, mesh.SubnetRoutesFor(peer.Id), mesh.Dns, privateKey)));
    }

    [Microsoft.Extensions.Logging.LoggerMessage(Level = Microsoft.Extensions.Logging.LogLevel.Information, Message = "plain WireGuard peer {Name} ({Id}) added behind gateway {Gateway}")]
    private static partial void LogPlainPeerAdded(Microsoft.Extensions.Logging.ILogger logger, string name, long id, long gateway);
}

/// <summary>A plain peer and its wg-quick configuration text.</summary>
public sealed record PlainPeerConfig(Node Node, string Config);
