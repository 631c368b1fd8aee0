using System.Net.Sockets;

namespace Trellis.Core.Transport;

/// <summary>
/// The firewall mark (SO_MARK) on every socket that carries the node's own underlay traffic: the
/// WireGuard socket, relay and control connections, STUN, port mapping, port-guessing sockets. Policy
/// routing sends unmarked traffic into the tunnel when an exit node is in use and lets marked traffic
/// take the host's own routes, as wg-quick does, so the tunnel never carries itself. One value for the
/// process because every underlay socket in it belongs to the one daemon; zero (tests, tools) marks nothing.
/// </summary>
public static class UnderlayMark
{
    /// <summary>The mark the daemon uses: "tr" in ASCII, clear of wg-quick's 51820 and Tailscale's 0x80000 bits.</summary>
    public const uint Default = 0x7472;

    private const int SOL_SOCKET = 1;
    private const int SO_MARK = 36;

    private static uint _mark;

    /// <summary>The mark to set, or zero for none.</summary>
    public static uint Current => Volatile.Read(ref _mark);

    /// <summary>Marks sockets opened from now on (the daemon calls this once, before it opens any).</summary>
    public static void Enable(uint mark) => Volatile.Write(ref _mark, mark);

    /// <summary>Sets the mark on <paramref name="socket"/> when one is enabled; needs CAP_NET_ADMIN, as the daemon has.</summary>
    public static void Apply(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        var mark = Current;
        if (mark != 0)
        {
            socket.SetRawSocketOption(SOL_SOCKET, SO_MARK, BitConverter.GetBytes(mark));
        }
    }
}
