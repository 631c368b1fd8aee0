using System.Runtime.CompilerServices;
using Trellis.Core.Control;

namespace Trellis.Control.Mesh;

/// <summary>
/// One node's map stream: the full map once, then coalesced deltas as they accumulate, and a
/// keepalive when nothing happened for a while. The transport (the Noise channel) pulls with
/// <see cref="NextAsync"/>; <see cref="MeshState"/> pushes changes without waiting for it.
/// </summary>
public sealed class MeshSession : IDisposable
{
    private readonly Lock _lock = new();
    private readonly SessionSignal _signal;
    private readonly TimeProvider _time;

    // guarded by _lock
    private readonly PendingDelta _pending;
    private ControlMessage? _first; // the full map, or the delta that resumes the node's map
    private bool _resumed;
    private bool _closed;
    private string? _closeReason;
    private string _closeCode = ControlErrorCodes.StreamEnded;
    private long _lastSent; // timestamp of the last full map or delta taken; 0 before the first
    private bool _pacing; // the pump waits out the pace with a delta pending

    internal MeshSession(long nodeId, NodeView view, int protocol = ControlProtocol.Initial, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _signal = new SessionSignal(_time);
        NodeId = nodeId;
        View = view;
        _pending = new PendingDelta(appliesKept: protocol >= ControlProtocol.PeersKept);
    }

    public long NodeId { get; }

    /// <summary>The node applies <see cref="MapDelta.PeersKept"/> (it announced <see cref="ControlProtocol.PeersKept"/>); fixed for the session.</summary>
    internal bool AppliesKept => _pending.AppliesKept;

    /// <summary>What this node may see; guarded by the mesh's view lock (read under it, written under its write side).</summary>
    internal NodeView View { get; }

    /// <summary>Why the server ended the stream (node deleted, expired, logged out), once closed.</summary>
    public string? CloseReason
    {
        get
        {
            lock (_lock)
            {
                return _closeReason;
            }
        }
    }

    /// <summary>What the node is told when its stream ends: <see cref="ControlErrorCodes.NodeKeyExpired"/> asks it to re-authenticate with a new key.</summary>
    public string CloseCode
    {
        get
        {
            lock (_lock)
            {
                return _closeCode;
            }
        }
    }

    /// <summary>Whether the stream began with a delta from the node's own map instead of a full map.</summary>
    public bool Resumed
    {
        get
        {
            lock (_lock)
            {
                return _resumed;
            }
        }
    }

    /// <summary>The stream's first message: a <see cref="FullMap"/>, or the <see cref="MapDelta"/> that resumes the node's map.</summary>
    internal void SetFirst(ControlMessage first)
    {
        lock (_lock)
        {
            _first = first;
            _resumed = first is MapDelta;
        }

        Wake();
    }

    internal void Update(Action<PendingDelta> change)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            change(_pending);
            if (_pacing)
            {
                return; // the pump's timer sends it with what is already pending: no wake-up per change
            }
        }

        Wake();
    }

    internal void Close(string reason, string code = ControlErrorCodes.StreamEnded)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            _closeCode = code;
            _closed = true;
            _closeReason = reason;
            _first = null; // what was queued is moot for a node that is gone or reconnected
            _pending.Take();
        }

        Wake();
    }

    private void Wake() => _signal.Set();

    /// <summary>
    /// The next message to send: the full map (or the resuming delta) first, then deltas; a keepalive after
    /// <paramref name="keepalive"/> of silence; null once the session is closed.
    /// </summary>
    public ValueTask<ControlMessage?> NextAsync(TimeSpan keepalive, CancellationToken cancellationToken) =>
        NextAsync(keepalive, TimeSpan.Zero, cancellationToken);

    /// <summary>
    /// As <see cref="NextAsync(TimeSpan, CancellationToken)"/>, with at least <paramref name="pace"/> between
    /// two messages: changes arriving sooner wait and go out merged. A lone change after a quiet spell goes
    /// at once; in a join storm each node gets a few merged deltas a second instead of one per join, which
    /// is what made the storm's cost grow with the square of the nodes (docs/BENCHMARKS.md).
    /// </summary>
    // Pooled: each of thousands of pumps calls this once per delta.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ControlMessage?> NextAsync(TimeSpan keepalive, TimeSpan pace, CancellationToken cancellationToken)
    {
        while (true)
        {
            var wait = keepalive;
            var pacing = false;
            lock (_lock)
            {
                _pacing = false;
                if (_first is { } first)
                {
                    _first = null;
                    _lastSent = _time.GetTimestamp();
                    return first;
                }

                if (!_pending.IsEmpty)
                {
                    var left = _lastSent == 0 ? TimeSpan.Zero : pace - _time.GetElapsedTime(_lastSent);
                    if (left <= TimeSpan.Zero)
                    {
                        _lastSent = _time.GetTimestamp();
                        return _pending.Take();
                    }

                    wait = left;
                    pacing = _pacing = true;
                }

                if (_closed)
                {
                    return null;
                }
            }

            // While pacing only a close wakes the pump early (and a wake-up left from before, which
            // sends the loop round to wait out the rest).
            if (!await _signal.WaitAsync(wait, cancellationToken).ConfigureAwait(false) && !pacing)
            {
                return new KeepaliveMessage();
            }
        }
    }

    public void Dispose() => _signal.Dispose();
}
