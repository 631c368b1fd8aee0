using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Trellis.Node.LocalApi;

/// <summary>
/// Who may use the local API: root and the daemon's own user. The socket's 0600 mode already keeps
/// others out; the kernel's SO_PEERCRED answer checks each connection as well, which also covers the
/// moment between the listener creating the file and its mode being tightened.
/// </summary>
internal static class PeerCredentials
{
    public static uint DaemonUid => Trellis.Net.UnixPeer.EffectiveUserId;

    /// <summary>Whether the request came over a Unix socket from an allowed uid (TCP never is).</summary>
    public static bool IsAllowed(HttpContext context, Func<uint, bool> allowed)
    {
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is not { AddressFamily: AddressFamily.Unix })
        {
            return false;
        }

        try
        {
            return Trellis.Net.UnixPeer.Uid(socket) is { } uid && allowed(uid);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            return false;
        }
    }

    public static bool IsRootOrDaemonUser(uint uid) => uid == 0 || uid == DaemonUid;
}
