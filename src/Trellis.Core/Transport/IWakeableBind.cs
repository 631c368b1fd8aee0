namespace Trellis.Core.Transport;

/// <summary>
/// A bind whose blocked <see cref="IBind.Receive"/> another thread can end without sending it a
/// datagram. A datagram to ourselves is not enough: a firewall that drops UDP (loopback included)
/// would drop the wake-up too, and the receiver would sleep on packets already waiting elsewhere.
/// </summary>
public interface IWakeableBind : IBind
{
    /// <summary>
    /// Makes a <see cref="IBind.Receive"/> blocked now, or else the next one, return 0 packets
    /// although the bind is still open; the caller tells that apart from a close by its own state.
    /// </summary>
    void WakeReceiver();
}
