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
            var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            var listening = false;
            try
            {
                RestrictBeforeBind(socket);
                socket.Bind(endpoint);
                File.SetUnixFileMode(path, SocketMode);
                socket.Listen(16);
                listening = true;
                return socket;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
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
                if (!listening)
                {
                    socket.Dispose();
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
