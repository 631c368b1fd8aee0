using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Trellis.Node.LocalApi;

/// <summary>
/// Who may use the local API: root and the daemon's own user. The socket's 0600 mode already keeps
/// others out; the kernel's SO_PEERCRED answer checks each connection as well, which also covers the
/// moment between the listener creating the file and its mode being tightened.
/// </summary>
internal static partial class PeerCredentials
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    public static uint DaemonUid { get; } = GetEffectiveUserId();

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
            return PeerUid(socket) is { } uid && allowed(uid);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            return false;
        }
    }

    public static bool IsRootOrDaemonUser(uint uid) => uid == 0 || uid == DaemonUid;

    /// <summary>The connecting process's uid (struct ucred: pid, uid, gid).</summary>
    private static uint? PeerUid(Socket socket)
    {
        Span<byte> ucred = stackalloc byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) == ucred.Length
            ? MemoryMarshal.Read<uint>(ucred[4..])
            : null;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
