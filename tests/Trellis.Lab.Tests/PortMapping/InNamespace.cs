using System.Runtime.InteropServices;

namespace Trellis.Lab.Tests.PortMapping;

/// <summary>
/// Runs code in a lab namespace from the test process. Namespaces are per thread and sockets keep the
/// namespace they were made in, so a throwaway thread enters the namespace (setns), runs the body, and
/// whatever sockets the body opened (synchronously) go on working from any thread afterwards.
/// </summary>
internal static partial class InNamespace
{
    private const int CLONE_NEWNET = 0x40000000;

    public static T Run<T>(NetNamespace ns, Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{ns.Name}");
                if (setns(handle.DangerousGetHandle().ToInt32(), CLONE_NEWNET) != 0)
                {
                    throw new InvalidOperationException($"setns({ns.Name}) failed with errno {Marshal.GetLastPInvokeError()}");
                }

                result = body();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }) { IsBackground = true, Name = "netns " + ns.Name };
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new InvalidOperationException($"failed inside {ns.Name}", failure);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(int fd, int nstype);
}
