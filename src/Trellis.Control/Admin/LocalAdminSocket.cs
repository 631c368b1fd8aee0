using System.Net.Sockets;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Trellis.Control.Admin;

/// <summary>
/// The server's own Unix socket, where the CLI on the server host needs no API key. Trust rests on
/// two checks rather than one: the socket file is 0600 (only the server's user and root can
/// connect), and each connection's peer credentials must name the server's user or root, which
/// also covers the moment between Kestrel creating the file and the mode being tightened.
/// A local HTTP port would be reachable from any web page in a browser; this socket is not.
/// </summary>
internal static class LocalAdminSocket
{
    /// <summary>The caller's uid when the request arrived on the admin socket at <paramref name="path"/> from root or the server's user; else null.</summary>
    public static uint? TrustedUid(HttpContext context, string path)
    {
        // Kestrel exposes the accepted socket; with TCP it is an IP socket, so this is false.
        var socket = context.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is not { AddressFamily: AddressFamily.Unix })
        {
            return null;
        }

        try
        {
            // Only the admin socket: a Unix socket the host might also serve for a reverse proxy is not trusted.
            if (socket.LocalEndPoint is not UnixDomainSocketEndPoint local || !SamePath(local.ToString(), path))
            {
                return null;
            }

            return Trellis.Net.UnixPeer.Uid(socket) is { } uid && (uid == 0 || uid == Trellis.Net.UnixPeer.EffectiveUserId) ? uid : null;
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            return null;
        }
    }

    /// <summary>
    /// Makes way for Kestrel's listener: a socket file left by a server that died is removed (Kestrel
    /// refuses to bind over it); a live one means another server owns it, which is an error.
    /// </summary>
    public static void Prepare(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        if (!File.Exists(path))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"another server is already listening on the admin socket {path}");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: a leftover.
            }
        }

        // A regular file refuses connections too; only an empty one (as socket files look) is removed.
        if (new FileInfo(path).Length != 0)
        {
            throw new IOException($"{path} is in the way of the admin socket and is not a socket; remove it or choose another admin socket path");
        }

        File.Delete(path);
    }

    /// <summary>Owner read and write only; run right after Kestrel has created the socket.</summary>
    public static void Secure(string path) => File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.Ordinal);
}
