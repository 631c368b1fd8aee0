namespace Trellis.Control.NodeProtocol;

/// <summary>
/// When a node's connection last received anything, WebSocket pings included: a healthy node that
/// has nothing to say still pings every 25 s, and those frames never reach the control messages.
/// Written by the connection's reads, read by its idle timer.
/// </summary>
public sealed class ReceiveActivity
{
    private readonly TimeProvider _time;
    private long _lastReceived;
    private long _bytes;

    public ReceiveActivity(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _lastReceived = time.GetTimestamp();
    }

    /// <summary>Bytes received so far on the connection (the HTTP upgrade request not included).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Time since the last bytes arrived (or since the connection opened).</summary>
    public TimeSpan Idle => _time.GetElapsedTime(Interlocked.Read(ref _lastReceived));

    public void Received(int bytes)
    {
        if (bytes > 0)
        {
            Interlocked.Exchange(ref _lastReceived, _time.GetTimestamp());
            Interlocked.Add(ref _bytes, bytes);
        }
    }
}
