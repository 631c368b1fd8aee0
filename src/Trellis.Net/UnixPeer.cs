using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Trellis.Net;

/// <summary>Who is on the other end of a Unix socket, as the kernel says (for local APIs that admit root and their own user).</summary>
public static partial class UnixPeer
{
    private const int SolSocket = 1;
    private const int SoPeerCred = 17;

    /// <summary>This process's effective uid.</summary>
    public static uint EffectiveUserId { get; } = GetEffectiveUserId();

    /// <summary>The connecting process's uid from SO_PEERCRED (struct ucred: pid, uid, gid); null if the kernel gave none.</summary>
    public static uint? Uid(Socket socket)
    {
        ArgumentNullException.ThrowIfNull(socket);
        Span<byte> ucred = stackalloc byte[12];
        return socket.GetRawSocketOption(SolSocket, SoPeerCred, ucred) == ucred.Length
            ? MemoryMarshal.Read<uint>(ucred[4..])
            : null;
    }

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEffectiveUserId();
}
