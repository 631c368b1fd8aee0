using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Control;
using Trellis.Core.Keys;
using Trellis.Crypto;

namespace Trellis.Node.State;

/// <summary>
/// The node's state directory (mode 0700): its three private keys (machine: identity towards the
/// control server; node: WireGuard; disco: discovery), each 0600 and never sent anywhere, the
/// user's preferences, and the last map. Opening it takes the daemon lock, so one daemon owns it.
/// </summary>
public sealed partial class StateDirectory : IDisposable
{
    public const string DefaultRootPath = "/var/lib/trellis-node";

    internal const string LockFile = "daemon.lock";
    private const string MachineKeyFile = "machine.key";
    private const string NodeKeyFile = "node.key";
    private const string DiscoKeyFile = "disco.key";
    private const string PrefsFile = "prefs.json";
    private const string MapFile = "netmap.json";

    private readonly StateLock _lock;
    private readonly ILogger _logger;

    private StateDirectory(string path, StateLock stateLock, ILogger logger)
    {
        Path = path;
        _lock = stateLock;
        _logger = logger;
        MachineKey = PrivateKeyFile.LoadOrCreate(File(MachineKeyFile));
        NodeKey = PrivateKeyFile.LoadOrCreate(File(NodeKeyFile));
        DiscoKey = PrivateKeyFile.LoadOrCreate(File(DiscoKeyFile));
    }

    public string Path { get; }

    /// <summary>Private machine key: authenticates the node's control channel.</summary>
    public Key MachineKey { get; }

    /// <summary>Private node key: the WireGuard static key; replaced by <see cref="RotateNodeKey"/>.</summary>
    public Key NodeKey { get; private set; }

    /// <summary>Private disco key: seals discovery messages.</summary>
    public Key DiscoKey { get; }

    /// <summary>/var/lib/trellis-node as root, else under the user's ~/.local/state.</summary>
    public static string DefaultPath() =>
        Environment.IsPrivilegedProcess
            ? DefaultRootPath
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "trellis-node");

    /// <summary>Creates the directory if needed, takes the lock and loads (or creates) the keys.</summary>
    /// <exception cref="StateLockedException">Another daemon uses this directory.</exception>
    public static StateDirectory Open(string path, ILogger? logger = null)
    {
        var full = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(full, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var stateLock = StateLock.Acquire(System.IO.Path.Combine(full, LockFile), full);
        try
        {
            return new StateDirectory(full, stateLock, logger ?? NullLogger.Instance);
        }
        catch
        {
            stateLock.Dispose();
            throw;
        }
    }

    /// <summary>The saved preferences; defaults when there are none or the file is unreadable.</summary>
    public NodePrefs LoadPrefs()
    {
        var path = File(PrefsFile);
        if (!System.IO.File.Exists(path))
        {
            return new NodePrefs();
        }

        try
        {
            return JsonSerializer.Deserialize(System.IO.File.ReadAllBytes(path), StateJsonContext.Default.NodePrefs) ?? new NodePrefs();
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            LogUnreadable(_logger, path, e.Message);
            return new NodePrefs();
        }
    }

    public void SavePrefs(NodePrefs prefs) =>
        AtomicFile.Write(File(PrefsFile), JsonSerializer.SerializeToUtf8Bytes(prefs, StateJsonContext.Default.NodePrefs));

    /// <summary>
    /// The cached map if it was received from <paramref name="serverUrl"/> with the current node key;
    /// null otherwise, or when the file is damaged (a warning, never a failed start).
    /// </summary>
    public NetMap? LoadMap(string serverUrl) => LoadCachedMap(serverUrl)?.Map;

    /// <summary>As <see cref="LoadMap"/>, with what the cache says of the server that sent the map.</summary>
    public CachedMap? LoadCachedMap(string serverUrl)
    {
        var path = File(MapFile);
        if (!System.IO.File.Exists(path))
        {
            return null;
        }

        CachedMap? cached;
        try
        {
            cached = JsonSerializer.Deserialize(System.IO.File.ReadAllBytes(path), StateJsonContext.Default.CachedMap);
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            LogUnreadable(_logger, path, e.Message);
            return null;
        }

        if (cached is null || cached.Version != CachedMap.CurrentVersion || cached.Map.Self is null || cached.Map.Peers is null)
        {
            LogUnreadable(_logger, path, "not a map this version understands");
            return null;
        }

        return cached.ServerUrl == serverUrl && cached.NodeKey == NodePublicKey() ? cached : null;
    }

    /// <summary>Caches <paramref name="map"/>; with the server's key and protocol level a restarted daemon can resume from it.</summary>
    public void SaveMap(NetMap map, string serverUrl, DateTimeOffset now, Key? serverKey = null, int serverProtocol = ControlProtocol.Initial) =>
        AtomicFile.Write(File(MapFile), JsonSerializer.SerializeToUtf8Bytes(
            new CachedMap
            {
                Version = CachedMap.CurrentVersion,
                ServerUrl = serverUrl,
                NodeKey = NodePublicKey(),
                SavedAt = now,
                Map = map,
                ServerKey = serverKey?.ToBase64(),
                ServerProtocol = serverProtocol,
            },
            StateJsonContext.Default.CachedMap));

    public void ClearMap() => System.IO.File.Delete(File(MapFile));

    /// <summary>Forgets the node key (after a logout) and makes a new one: the next registration is a new WireGuard identity.</summary>
    public Key RotateNodeKey()
    {
        System.IO.File.Delete(File(NodeKeyFile));
        NodeKey = PrivateKeyFile.LoadOrCreate(File(NodeKeyFile));
        return NodeKey;
    }

    private string NodePublicKey() => X25519.PublicKey(NodeKey).ToBase64();

    private string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => _lock.Dispose();

    [LoggerMessage(Level = LogLevel.Warning, Message = "ignoring {Path}: {Reason}")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);
}
