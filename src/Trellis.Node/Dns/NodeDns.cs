using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Trellis.Core.Control;

namespace Trellis.Node.Dns;

/// <summary>
/// Names on the node: each map (after the engine has put the resolver addresses on the TUN) checks
/// the map's DNS configuration, rebuilds <see cref="MeshNames"/> (kept when a delta moved only peers' paths), starts or updates the
/// <see cref="MeshResolver"/> and, with accept-dns, points the host at it (<see cref="IHostDns"/>).
/// <see cref="Down"/> stops the resolver and restores the host. Called only under the daemon's apply lock.
/// </summary>
public sealed partial class NodeDns : IDisposable
{
    private readonly NodeDnsOptions _options;
    private readonly IHostDns _host;
    private readonly ILogger _logger;
    private MeshResolver? _resolver;

    // The map the resolver's names were built from, the names, and who may ask (this node's addresses
    // and its plain peers'): a delta that moved only peers' paths keeps them, one that adds or removes
    // a peer changes the names for that peer.
    private NetMap? _named;
    private MeshNames? _names;
    private List<IPAddress> _askers = [];

    public NodeDns(NodeDnsOptions options, string stateDirectory, string interfaceName, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options;
        _logger = loggerFactory.CreateLogger<NodeDns>();
        _host = ResolvedHost.IsInUse(options.ResolvConfPath)
            ? new ResolvedHost(interfaceName, _logger)
            : new ResolvConfHost(options.ResolvConfPath, Path.Combine(stateDirectory, ResolvConfHost.BackupName), _logger);

        // A daemon that died with the host pointed at its resolver: put the original back first.
        RestoreHost();
    }

    /// <summary>What went wrong with names at the last map, for the status; null when all is well.</summary>
    public string? Error { get; private set; }

    public void Apply(NetMap map, bool acceptDns)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Dns is null || map.Self.Addresses.Count == 0)
        {
            Down();
            return;
        }

        if (!DnsConfigRules.TryNormalize(map.Dns, out var config, out var problem))
        {
            Error = $"the server's DNS configuration is unusable, so names are off: {problem}";
            LogBadConfig(_logger, problem);
            Down();
            return;
        }

        if (!NamesKept(map) && !UpdateNames(map, config))
        {
            return;
        }

        if (!acceptDns)
        {
            RestoreHost();
            Error = null;
            return;
        }

        try
        {
            _host.Apply(config);
            Error = null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error = $"the host's resolver could not be pointed at the mesh's: {e.Message}";
            LogHostFailed(_logger, e.Message);
        }
    }

    /// <summary>
    /// Whether the resolver's names hold for <paramref name="map"/>, a delta on the map they were built
    /// from: kept when it changed no name, address or gateway, changed for the peers it added, removed
    /// or renamed when their names are theirs alone (<see cref="MeshNames.With"/>); false when the
    /// whole map's names are due.
    /// </summary>
    private bool NamesKept(NetMap map)
    {
        if (_resolver is null || _names is null || _named is not { } named || !ReferenceEquals(named.Self, map.Self) || !ReferenceEquals(named.Dns, map.Dns)
            || PeerChanges.Diff(named, map) is not { } diff)
        {
            return false;
        }

        var renamed = diff.Changed.Where(c => c.Before.Name != c.After.Name || c.Before.Gateway != c.After.Gateway || !c.Before.Addresses.SequenceEqual(c.After.Addresses)).ToList();
        if (diff.Added.Count > 0 || diff.Removed.Count > 0 || renamed.Count > 0)
        {
            // A plain peer served here may ask the resolver: who may ask is worked out from the whole map.
            var removed = diff.Removed.Concat(renamed.Select(c => c.Before)).ToList();
            var added = diff.Added.Concat(renamed.Select(c => c.After)).ToList();
            if (removed.Concat(added).Any(p => p.Gateway == map.Self.Id) || _names.With(removed, added) is not { } names)
            {
                return false;
            }

            _resolver.Update(names, _askers);
            _names = names;
        }

        _named = map;
        return true;
    }

    /// <summary>Builds the names and starts or updates the resolver; false when it cannot listen (the error is set).</summary>
    private bool UpdateNames(NetMap map, DnsConfig config)
    {
        var names = MeshNames.Build(map, config, _host.OriginalNameservers());
        // Who may ask: this node, and the plain WireGuard peers it is the gateway of (their DNS= line names this resolver).
        var plainPeers = map.Peers.Values.Where(p => p.Gateway == map.Self.Id).SelectMany(p => p.Addresses);
        var own = map.Self.Addresses.Concat(plainPeers).Select(a => IPAddress.TryParse(a.Split('/')[0], out var ip) ? ip : null).OfType<IPAddress>().ToList();
        try
        {
            if (_resolver is null)
            {
                _resolver = MeshResolver.Start([.. _options.ListenAddresses.Select(a => new IPEndPoint(a, _options.Port))], names, own, _logger);
                LogListening(_logger, string.Join(", ", _options.ListenAddresses), _options.Port);
            }
            else
            {
                _resolver.Update(names, own);
            }
        }
        catch (SocketException e)
        {
            Error = $"the mesh resolver cannot listen on {string.Join(", ", _options.ListenAddresses)} port {_options.Port}: {e.Message} (tried again with the next map)";
            LogResolverFailed(_logger, e.Message);
            return false;
        }

        (_named, _names, _askers) = (map, names, own);
        return true;
    }

    /// <summary>Stops answering and puts the host's resolver configuration back.</summary>
    public void Down()
    {
        _resolver?.Dispose();
        _resolver = null;
        (_named, _names) = (null, null);
        RestoreHost();
    }

    public void Dispose() => Down();

    private void RestoreHost()
    {
        try
        {
            _host.Restore();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Error = $"the host's resolver configuration could not be restored: {e.Message}";
            LogHostFailed(_logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "the mesh resolver listens on {Addresses} port {Port}")]
    private static partial void LogListening(ILogger logger, string addresses, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the server's DNS configuration is unusable, so names are off: {Problem}")]
    private static partial void LogBadConfig(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the mesh resolver cannot listen: {Reason}")]
    private static partial void LogResolverFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "host DNS: {Reason}")]
    private static partial void LogHostFailed(ILogger logger, string reason);
}
