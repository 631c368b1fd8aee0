using Microsoft.Extensions.Logging;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Node.State;

/// <summary>
/// Writes the daemon's cached map (<see cref="StateDirectory.SaveMap"/>) at most once per
/// <see cref="Interval"/>: the first map at once, the later ones of a burst as one write of the
/// newest. Each write is the whole map and an fsync (megabytes in a mesh of thousands), while such a
/// mesh sends a node a delta every few hundred milliseconds (endpoints, online state). The cache only
/// has to be recent enough for a restart to bring the tunnels up before the server answers.
/// </summary>
public sealed partial class MapCacheWriter(StateDirectory state, TimeProvider time, ILogger logger)
{
    /// <summary>The least time between two writes.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    // Guards what follows; writes happen under it, so two never overlap.
    private readonly Lock _gate = new();
    private (NetMap Map, string Server, Key? ServerKey, int ServerProtocol)? _pending;
    private ITimer? _timer;
    private long _lastWrite;

    /// <summary>Writes <paramref name="map"/> now when the last write is <see cref="Interval"/> old, else when it is.</summary>
    /// <remarks>With the server's key and protocol level, a restarted daemon resumes from the map (<see cref="CachedMap.Resumable"/>).</remarks>
    public void Save(NetMap map, string serverUrl, Key? serverKey = null, int serverProtocol = ControlProtocol.Initial)
    {
        lock (_gate)
        {
            _pending = (map, serverUrl, serverKey, serverProtocol);
            if (_timer is not null)
            {
                return; // a write is due and takes the newest map
            }

            var wait = _lastWrite == 0 ? TimeSpan.Zero : Interval - time.GetElapsedTime(_lastWrite);
            if (wait > TimeSpan.Zero)
            {
                _timer = time.CreateTimer(static s => ((MapCacheWriter)s!).Flush(), this, wait, Timeout.InfiniteTimeSpan);
                return;
            }

            WriteLocked();
        }
    }

    /// <summary>Writes a map still waiting, at once (the session ends: whatever follows sees the file as it should be).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            _timer?.Dispose();
            _timer = null;
            WriteLocked();
        }
    }

    private void WriteLocked()
    {
        if (_pending is not { } pending)
        {
            return;
        }

        var (map, server, serverKey, serverProtocol) = pending;
        _pending = null;
        _lastWrite = time.GetTimestamp();
        try
        {
            state.SaveMap(map, server, time.GetUtcNow(), serverKey, serverProtocol);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCacheFailed(logger, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not cache the map: {Reason}")]
    private static partial void LogCacheFailed(ILogger logger, string reason);
}
