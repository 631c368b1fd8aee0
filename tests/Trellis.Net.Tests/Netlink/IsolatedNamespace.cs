using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Trellis.Net.Netlink;

namespace Trellis.Net.Tests.Netlink;

/// <summary>
/// A fresh network namespace, so netlink tests change real kernel state without touching the host's.
/// Namespaces are per thread on Linux: one dedicated thread unshares and then runs whatever must
/// happen inside (opening the netlink socket and TUN devices, sysctl files). Sockets opened there stay
/// in the namespace whichever thread uses them, so tests call <see cref="Netlink"/> directly. The
/// independent reader is iproute2 run with nsenter on the thread's namespace file.
/// </summary>
internal sealed partial class IsolatedNamespace : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;

    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;
    private readonly List<LinuxTun> _tuns = [];

    public IsolatedNamespace()
    {
        Privilege.RequireRoot();
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Serve(started)) { IsBackground = true, Name = "netns" };
        _thread.Start();
        var tid = started.Task.GetAwaiter().GetResult();
        NamespaceFile = $"/proc/{Environment.ProcessId}/task/{tid}/ns/net";
        Netlink = Run(() => new RtNetlink());
    }

    /// <summary>The namespace's nsfs file, for nsenter --net.</summary>
    public string NamespaceFile { get; }

    /// <summary>A client whose socket lives in the namespace.</summary>
    public RtNetlink Netlink { get; }

    /// <summary>Runs <paramref name="body"/> on the thread inside the namespace and returns its result.</summary>
    public T Run<T>(Func<T> body)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            try
            {
                done.SetResult(body());
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        });
        return done.Task.GetAwaiter().GetResult();
    }

    public void Run(Action body) => Run(() =>
    {
        body();
        return 0;
    });

    /// <summary>Creates a TUN inside the namespace (the TUN is made in the namespace of whoever opens /dev/net/tun).</summary>
    public LinuxTun CreateTun(string name, bool up = true)
    {
        var tun = Run(() => LinuxTun.Create(name));
        _tuns.Add(tun);
        if (up)
        {
            Netlink.SetLinkUp(name);
        }

        return tun;
    }

    /// <summary>Runs <c>ip -j ARGS</c> inside the namespace and parses its JSON output.</summary>
    public JsonElement IpJson(params string[] arguments)
    {
        var output = Exec(["ip", "-j", .. arguments]);
        using var document = JsonDocument.Parse(output.Length == 0 ? "[]" : output);
        return document.RootElement.Clone();
    }

    /// <summary>Runs a command inside the namespace and returns its standard output; throws with its stderr on failure.</summary>
    public string Exec(params string[] command)
    {
        var start = new ProcessStartInfo("nsenter")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"--net={NamespaceFile}");
        foreach (var c in command)
        {
            start.ArgumentList.Add(c);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start nsenter");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill();
            throw new TimeoutException($"{string.Join(' ', command)} did not finish");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({process.ExitCode}): {stderr.Result.Trim()}");
        }

        return stdout.Trim();
    }

    public void Dispose()
    {
        Netlink.Dispose();
        foreach (var tun in _tuns)
        {
            tun.Dispose();
        }

        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    private void Serve(TaskCompletionSource<int> started)
    {
        if (unshare(CLONE_NEWNET) != 0)
        {
            started.SetException(new ErrnoException("unshare(CLONE_NEWNET)", Marshal.GetLastPInvokeError()));
            return;
        }

        started.SetResult(BlockedThread.CurrentTid());
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);
}
