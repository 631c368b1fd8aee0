using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Trellis.Node.State;

/// <summary>
/// An exclusive flock on the state directory's lock file, held for the daemon's life: two daemons
/// sharing keys and a map cache would fight over the node's identity. The kernel drops the lock when
/// the process dies, so a crash leaves nothing to clean up. The holder writes its pid into the file
/// so the refused one can name it. Raw open/flock, not FileStream: .NET takes its own shared flock
/// on open, which would make reading the pid fail.
/// </summary>
internal sealed partial class StateLock : IDisposable
{
    private const int O_RDWR = 2;
    private const int O_CREAT = 0x40;
    private const int O_CLOEXEC = 0x80000;
    private const int LOCK_EX = 2;
    private const int LOCK_NB = 4;
    private const int LOCK_UN = 8;
    private const int EWOULDBLOCK = 11;

    private readonly SafeFileHandle _handle;

    private StateLock(SafeFileHandle handle) => _handle = handle;

    /// <exception cref="StateLockedException">Another process holds the lock.</exception>
    public static StateLock Acquire(string path, string directory)
    {
        var fd = Open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0b110_000_000);
        if (fd < 0)
        {
            throw new IOException($"cannot open the lock file {path}: {Marshal.GetLastPInvokeErrorMessage()}");
        }

        var handle = new SafeFileHandle(fd, ownsHandle: true);
        if (Flock(fd, LOCK_EX | LOCK_NB) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            var message = Marshal.GetLastPInvokeErrorMessage();
            try
            {
                if (errno == EWOULDBLOCK)
                {
                    var holder = ReadPid(handle) is { } pid ? $" (pid {pid})" : "";
                    throw new StateLockedException(
                        $"another trellis daemon{holder} is already using the state directory {directory}; stop it, or give this one its own --state-dir");
                }

                throw new IOException($"cannot lock {path}: {message}");
            }
            finally
            {
                handle.Dispose();
            }
        }

        var text = Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n");
        _ = Ftruncate(fd, 0);
        RandomAccess.Write(handle, text, 0);
        return new StateLock(handle);
    }

    private static string? ReadPid(SafeFileHandle handle)
    {
        try
        {
            Span<byte> buffer = stackalloc byte[16];
            var read = RandomAccess.Read(handle, buffer, 0);
            var text = Encoding.ASCII.GetString(buffer[..read]).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _) ? text : null;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>
    /// Unlocks, then closes. Closing alone is not enough: a child another thread forks at that moment
    /// holds a copy of the descriptor until it execs (O_CLOEXEC closes it only then), and the lock
    /// lives as long as any copy, so a daemon started right after (a restart, a test) found it held.
    /// </summary>
    public void Dispose()
    {
        if (!_handle.IsClosed)
        {
            _ = Flock((int)_handle.DangerousGetHandle(), LOCK_UN);
        }

        _handle.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static partial int Ftruncate(int fd, long length);
}
