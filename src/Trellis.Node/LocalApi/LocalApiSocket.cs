using System.Net.Sockets;

namespace Trellis.Node.LocalApi;

/// <summary>
/// The local API's Unix socket file: where it is by default, making way for a new daemon (a file
/// left by a crashed one is replaced, a live daemon's is not) and tightening its mode.
/// </summary>
public static class LocalApiSocket
{
    public const string DefaultPath = "/var/run/trellis/trellis.sock";

    public const string EnvironmentVariable = "TRELLIS_SOCKET";

    /// <summary>The socket a command means: the flag, else $TRELLIS_SOCKET, else the default.</summary>
    public static string Resolve(string? flag)
    {
        if (!string.IsNullOrWhiteSpace(flag))
        {
            return flag.Trim();
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(fromEnvironment) ? DefaultPath : fromEnvironment.Trim();
    }

    /// <summary>Creates the directory; removes a stale socket file; refuses when a daemon answers on it.</summary>
    /// <exception cref="IOException">A live daemon listens there, or a non-socket file is in the way.</exception>
    public static void Prepare(string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
        {
            // Traversable by all: the socket's own mode and the peer check decide who gets in.
            Directory.CreateDirectory(directory, (UnixFileMode)0b111_101_101);
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
                throw new IOException($"another trellis daemon is already listening on {path}; stop it, or give this one its own --socket");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Nobody listens: left by a daemon that crashed.
            }
        }

        // A regular file refuses connections too; only an empty one (as socket files look) is removed.
        if (new FileInfo(path).Length != 0)
        {
            throw new IOException($"{path} is in the way of the local API socket and is not a socket; remove it or choose another --socket");
        }

        File.Delete(path);
    }

    /// <summary>Owner read and write only; run right after the listener created the file.</summary>
    public static void Secure(string path) => File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
}
