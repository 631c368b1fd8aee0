using System.Diagnostics;

namespace Trellis.Net.Tests;

/// <summary>Root-only setup for the TUN tests. CI runs as root, so a missing privilege fails loudly instead of skipping.</summary>
internal static class Privilege
{
    public static void RequireRoot()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Fail("this test creates network interfaces and needs root (CAP_NET_ADMIN); run the tests as root, as CI does");
        }
    }

    /// <summary>Runs iproute2's <c>ip</c> and throws with its stderr when it fails.</summary>
    public static void Ip(params string[] arguments)
    {
        var start = new ProcessStartInfo("ip")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start ip");
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
        {
            process.Kill();
            throw new TimeoutException($"ip {string.Join(' ', arguments)} did not finish");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({process.ExitCode}): {stderr.Result.Trim()}");
        }
    }
}
