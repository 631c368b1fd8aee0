namespace Trellis.Core.Control;

/// <summary>How packets to a peer travel, as the data plane reports it and `trellis status` and `trellis ping` show it.</summary>
public static class PathKind
{
    /// <summary>Straight to the peer over UDP.</summary>
    public const string Direct = "direct";

    /// <summary>Over UDP through a peer that relays for others ("peer-relay via NAME" in status).</summary>
    public const string PeerRelay = "peer-relay";

    /// <summary>Through the home relay (TCP).</summary>
    public const string Relay = "relay";

    /// <summary>No way to the peer now.</summary>
    public const string None = "none";
}
