namespace Trellis.Discovery;

/// <summary>
/// The hard side's half of port guessing, for one peer: the sockets opened toward it (each a mapping
/// of its own on our NAT), until the peer's probe meets one (the winner, kept to carry the peer's
/// packets) or <see cref="HoldFor"/> passes. Sockets, winner and closing guarded by <see cref="Sync"/>.
/// </summary>
internal sealed class GuessSockets
{
    /// <summary>Sockets per attempt: with the other side's 1000 probes over 64,512 ports, a 98% chance that one meets.</summary>
    public const int Count = 256;

    /// <summary>
    /// How long the sockets wait for a probe: the peer's spray (at most <see cref="PortSpray.GiveUpAfter"/>)
    /// plus the relay's delay; well inside the 30 s a NAT keeps an unanswered UDP mapping.
    /// </summary>
    public static readonly TimeSpan HoldFor = TimeSpan.FromSeconds(10);

    private readonly List<IGuessSocket> _sockets = [];

    public GuessSockets(PeerState peer, long openedAt)
    {
        Peer = peer;
        OpenedAt = openedAt;
    }

    public PeerState Peer { get; }

    public long OpenedAt { get; }

    public object Sync { get; } = new();

    /// <summary>The socket a peer's probe met; it stays open while this attempt is the peer's.</summary>
    public IGuessSocket? Winner { get; private set; }

    public bool Closed { get; private set; }

    public int Opened { get; private set; }

    /// <summary>Keeps a socket just opened; false (and the socket disposed) when the attempt already ended.</summary>
    public bool Add(IGuessSocket socket)
    {
        lock (Sync)
        {
            if (Closed || Winner is not null)
            {
                socket.Dispose();
                return false;
            }

            _sockets.Add(socket);
            Opened++;
            return true;
        }
    }

    /// <summary>The first socket to hear from the peer wins; the others close. True when <paramref name="socket"/> is (now) the winner.</summary>
    public bool Adopt(IGuessSocket socket)
    {
        lock (Sync)
        {
            if (Winner is not null)
            {
                return Winner == socket;
            }

            if (Closed || !_sockets.Contains(socket))
            {
                return false;
            }

            Winner = socket;
            foreach (var s in _sockets)
            {
                if (s != socket)
                {
                    s.Dispose();
                }
            }

            _sockets.Clear();
            return true;
        }
    }

    /// <summary>Closes the sockets still waiting when nothing met them in time; true when it did.</summary>
    public bool CloseIfUnmet(long now, long holdTicks)
    {
        lock (Sync)
        {
            if (Closed || Winner is not null || now - OpenedAt < holdTicks)
            {
                return false;
            }

            CloseLocked();
            return true;
        }
    }

    /// <summary>Closes every socket, the winner too (the peer left, a new attempt, the bind closing).</summary>
    public void Close()
    {
        lock (Sync)
        {
            CloseLocked();
        }
    }

    /// <summary>Sockets still open (the waiting ones, or the winner).</summary>
    public int OpenCount
    {
        get
        {
            lock (Sync)
            {
                return Closed ? 0 : Winner is not null ? 1 : _sockets.Count;
            }
        }
    }

    private void CloseLocked()
    {
        Closed = true;
        foreach (var s in _sockets)
        {
            s.Dispose();
        }

        _sockets.Clear();
        Winner?.Dispose();
    }
}
