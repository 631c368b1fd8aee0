using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace Trellis.Node.Tests.Engine;

/// <summary>
/// A fresh network namespace for tests that change real kernel state (the same idea as the Net tests'
/// IsolatedNamespace). Namespaces are per thread on Linux: one dedicated thread unshares and then runs
/// whatever must happen inside. TUNs, sockets and netlink sockets opened there stay in the namespace
/// whichever thread later uses them; sysctl files and child processes follow the calling thread, so
/// engine calls go through <see cref="Run{T}(Func{T})"/>. iproute2 and nft are run with nsenter.
/// </summary>
internal sealed partial class PrivateNamespace : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;

    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread _thread;

    public PrivateNamespace()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Fail("this test creates network namespaces and interfaces and needs root; run the tests as root, as CI does");
        }

        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _thread = new Thread(() => Serve(started)) { IsBackground = true, Name = "netns" };
        _thread.Start();
        ThreadId = started.Task.GetAwaiter().GetResult();
        Exec("ip", "link", "set", "lo", "up");
    }

    /// <summary>The kernel id of the thread inside; `ip link ... netns ID` moves an interface here.</summary>
    public int ThreadId { get; }

    public string NamespaceFile => $"/proc/{Environment.ProcessId}/task/{ThreadId}/ns/net";

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

    /// <summary>Runs an async body to completion on the thread inside (engine calls complete there: see WireGuardEngine's remarks).</summary>
    public void RunAsync(Func<Task> body) => Run(() => body().GetAwaiter().GetResult());

    /// <summary>Runs <c>ip -j ARGS</c> inside and parses its JSON output.</summary>
    public JsonElement IpJson(params string[] arguments)
    {
        var output = Exec(["ip", "-j", .. arguments]);
        using var document = JsonDocument.Parse(output.Length == 0 ? "[]" : output);
        return document.RootElement.Clone();
    }

    /// <summary>Runs a command inside and returns its standard output; throws with its stderr on failure.</summary>
    public string Exec(params string[] command)
    {
        var (code, stdout, stderr) = TryExec(command);
        if (code != 0)
        {
            throw new InvalidOperationException($"{string.Join(' ', command)} failed ({code}): {stderr}");
        }

        return stdout;
    }

    public (int ExitCode, string Stdout, string Stderr) TryExec(params string[] command)
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

        return (process.ExitCode, stdout.Trim(), stderr.Result.Trim());
    }

    public void Dispose()
    {
        _work.CompleteAdding();
        _thread.Join();
        _work.Dispose();
    }

    private void Serve(TaskCompletionSource<int> started)
    {
        if (unshare(CLONE_NEWNET) != 0)
        {
            started.SetException(new InvalidOperationException($"unshare(CLONE_NEWNET) failed: errno {Marshal.GetLastPInvokeError()}"));
            return;
        }

        started.SetResult(gettid());
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int unshare(int flags);

    [LibraryImport("libc")]
    private static partial int gettid();
}
