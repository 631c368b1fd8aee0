using System.Net.Sockets;
using Microsoft.Win32.SafeHandles;

namespace Trellis.WireGuard.Uapi;

/// <summary>Opens the listening Unix socket as wireguard-go's UAPIOpen does, stale-file handling included.</summary>
internal static class UapiSocket
{
    private const UnixFileMode DirectoryMode =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    // Whoever can connect can reconfigure the device: owner only, like wireguard-go's umask 077.
    private const UnixFileMode SocketMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <exception cref="InvalidOperationException">A live server already answers on <paramref name="path"/>.</exception>
    public static Socket Listen(string path, string interfaceName)
    {
        if (OperatingSystem.IsWindows())
        {
            // wireguard-go serves Windows on a named pipe, \\.\pipe\ProtectedPrefix\Administrators\WireGuard\{name}.
            throw new PlatformNotSupportedException("the configuration socket is a Unix socket; Windows uses a named pipe");
        }

        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(directory, DirectoryMode);
        var endpoint = new UnixDomainSocketEndPoint(path);
        for (var attempt = 0; ; attempt++)
        {
            // wg(8) deletes a socket file whose connect is refused, which it is between bind and listen:
            // listening under a private name first means the public name only ever names a live server.
            var staging = Path.Combine(directory, $".{Environment.ProcessId}-{Random.Shared.Next():x8}.staging");
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            var published = false;
            try
            {
                RestrictBeforeBind(socket);
                socket.Bind(new UnixDomainSocketEndPoint(staging));
                File.SetUnixFileMode(staging, SocketMode);
                socket.Listen(16);
                File.Move(staging, path, overwrite: false);
                published = true;
                return socket;
            }
            catch (IOException e) when (File.Exists(path))
            {
                if (IsServed(endpoint))
                {
                    throw new InvalidOperationException($"another process is already serving {interfaceName} (a server answers on {path})", e);
                }

                if (attempt > 0)
                {
                    throw;
                }

                // Left behind by a process that died: nobody answers on it.
                File.Delete(path);
            }
            finally
            {
                if (!published)
                {
                    socket.Dispose();
                    File.Delete(staging);
                }
            }
        }
    }

    /// <summary>
    /// Linux creates the socket file with the socket inode's mode masked by the umask, so restricting
    /// the inode first leaves no moment in which the file is open to others. Changing the umask
    /// instead, as wireguard-go does, would race with every other thread creating files.
    /// </summary>
    private static void RestrictBeforeBind(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var handle = new SafeFileHandle(socket.Handle, ownsHandle: false);
        File.SetUnixFileMode(handle, SocketMode);
    }

    /// <summary>Whether a server accepts on the path; a full backlog (would block) counts as live.</summary>
    private static bool IsServed(UnixDomainSocketEndPoint endpoint)
    {
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        probe.Blocking = false;
        try
        {
            probe.Connect(endpoint);
            return true;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress;
        }
    }
}
