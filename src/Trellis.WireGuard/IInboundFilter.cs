namespace Trellis.WireGuard;

/// <summary>
/// The hook through which a policy decides which decrypted packets reach the TUN, so that the
/// device stays ignorant of policy. <see cref="RecordOutbound"/> sees every packet this host sends
/// into the tunnel (so replies to its own flows can pass); <see cref="Allows"/> sees every decrypted
/// packet that passed the allowed-IPs source check, just before the TUN write.
/// </summary>
/// <remarks>
/// Both run on the packet threads, once per packet: they must not allocate, and they are called
/// concurrently from the TUN reader (send) and the ordered receive stage.
/// </remarks>
public interface IInboundFilter
{
    /// <summary>Notes a packet read from the TUN on its way to a peer (before sealing).</summary>
    void RecordOutbound(ReadOnlySpan<byte> packet);

    /// <summary>Whether a decrypted, well-formed IP packet (exactly its IP length) may reach the TUN.</summary>
    bool Allows(ReadOnlySpan<byte> packet);
}
