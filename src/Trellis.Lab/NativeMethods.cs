using System.Runtime.InteropServices;

namespace Trellis.Lab;

internal static partial class NativeMethods
{
    private const int ESRCH = 3;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends a signal; false when the process no longer exists.</summary>
    internal static bool SendSignal(int pid, UnixSignal signal)
    {
        if (Kill(pid, (int)signal) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == ESRCH
            ? false
            : throw new InvalidOperationException($"kill({pid}, {signal}) failed with errno {errno}");
    }
}
