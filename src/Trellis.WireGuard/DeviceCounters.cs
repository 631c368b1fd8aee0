namespace Trellis.WireGuard;

/// <summary>
/// What the device dropped and why. Bad input is counted, never thrown: a malformed packet from the
/// network must not cost more than a counter increment. Fields are updated with Interlocked.
/// </summary>
public sealed class DeviceCounters
{
    public long MalformedPackets;
    public long UnknownReceiverIndex;
    public long DecryptionFailed;
    public long ExpiredKeypair;
    public long ReplayedPackets;
    public long SourceNotAllowed;

    /// <summary>Decrypted packets the <see cref="Device.InboundFilter"/> refused (the per-peer share is on <see cref="Peer"/>).</summary>
    public long DroppedByFilter;

    public long NoPeerForDestination;
    public long NoEndpoint;

    /// <summary>Our own datagrams routed back into the tunnel (a peer's endpoint inside its allowed IPs), dropped.</summary>
    public long RoutingLoop;
    public long HandshakeMac1Failed;
    public long HandshakeInvalid;
    public long HandshakeReplayed;
    public long HandshakeQueueFull;
    public long CookieRepliesSent;
    public long CookieRepliesAccepted;
    public long RateLimited;
    public long StagedDropped;
    public long HandshakesCompleted;
}
