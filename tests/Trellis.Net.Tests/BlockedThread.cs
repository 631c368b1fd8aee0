using System.Runtime.InteropServices;

namespace Trellis.Net.Tests;

/// <summary>
/// Lets a test wait until another thread is really asleep inside a given system call, read from
/// /proc, so "Close wakes a blocked call" is tested on a blocked call rather than after a guessed sleep.
/// </summary>
internal static class BlockedThread
{
    /// <summary>The kernel thread id of the calling thread.</summary>
    public static int CurrentTid()
    {
        // /proc/thread-self -> "<pid>/task/<tid>"
        var target = Directory.ResolveLinkTarget("/proc/thread-self", returnFinalTarget: false)!.ToString();
        return int.Parse(target[(target.LastIndexOf('/') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits until thread <paramref name="tid"/> sleeps in one of the named system calls.</summary>
    public static void WaitUntilBlockedIn(int tid, TimeSpan timeout, params string[] syscalls)
    {
        var numbers = syscalls.Select(Number).ToHashSet();
        var deadline = DateTime.UtcNow + timeout;
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..][0];
            last = File.ReadAllText($"/proc/self/task/{tid}/syscall").Trim();
            var first = last.Split(' ')[0];
            if (state == 'S' && int.TryParse(first, out var n) && numbers.Contains(n))
            {
                return;
            }

            Thread.Sleep(1); // polling /proc: there is no event for "entered the kernel"
        }

        Assert.Fail($"thread {tid} did not block in {string.Join('/', syscalls)} within {timeout} (last: {last})");
    }

    private static int Number(string name) => (RuntimeInformation.ProcessArchitecture, name) switch
    {
        (Architecture.X64, "recvmmsg") => 299,
        (Architecture.X64, "poll") => 7,
        (Architecture.X64, "ppoll") => 271,
        (Architecture.Arm64, "recvmmsg") => 243,
        (Architecture.Arm64, "ppoll") => 73,
        (Architecture.Arm64, "poll") => 73, // arm64 has only ppoll; glibc's poll() uses it
        _ => throw new PlatformNotSupportedException($"no syscall number for {name} on {RuntimeInformation.ProcessArchitecture}"),
    };
}
