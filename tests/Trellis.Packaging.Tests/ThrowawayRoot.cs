using System.Diagnostics;
using System.Globalization;
using Trellis.Lab;

namespace Trellis.Packaging.Tests;

/// <summary>
/// This machine's root file system seen through a copy-on-write overlay, in a mount and network
/// namespace of its own: commands chrooted into it may install packages, add users and bind ports, and
/// every change lives in a tmpfs that disappears with the namespace. Nothing reaches the real /usr.
/// </summary>
internal sealed class ThrowawayRoot : IAsyncDisposable
{
    private readonly Process _holder;
    private readonly DirectoryInfo _mountPoint;

    private ThrowawayRoot(Process holder, DirectoryInfo mountPoint, int pid)
    {
        _holder = holder;
        _mountPoint = mountPoint;
        Pid = pid;
    }

    /// <summary>The process holding the namespaces (for nsenter).</summary>
    public int Pid { get; }

    /// <summary>The overlay's root as seen from inside the namespace (a host path that is empty outside it).</summary>
    public string RootPath => Path.Combine(_mountPoint.FullName, "root");

    public static async Task<ThrowawayRoot> CreateAsync()
    {
        var mountPoint = Directory.CreateTempSubdirectory("trl-root-");
        var dir = mountPoint.FullName;

        // The overlay takes only the root file system itself; /proc, /dev, /sys, /run and /tmp are
        // mounted again inside, so programs in it see a machine of their own. A new network namespace
        // has only a loopback (brought up): servers started in here cannot clash with anyone's ports.
        var setup = $"""
            set -e
            mount -t tmpfs tmpfs {dir}
            mkdir -p {dir}/upper {dir}/work {dir}/root
            mount -t overlay overlay -o lowerdir=/,upperdir={dir}/upper,workdir={dir}/work {dir}/root
            mount -t proc proc {dir}/root/proc
            mount --rbind /dev {dir}/root/dev
            mount -t sysfs sysfs {dir}/root/sys
            mount -t tmpfs tmpfs {dir}/root/run
            mount -t tmpfs tmpfs {dir}/root/tmp
            ip link set lo up
            echo $$
            exec sleep infinity
            """;
        var start = new ProcessStartInfo("unshare")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--mount", "--net", "--propagation", "private", "--fork", "sh", "-c", setup])
        {
            start.ArgumentList.Add(argument);
        }

        var holder = Process.Start(start)!;
        var first = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        if (first is null || !int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
        {
            var error = await holder.StandardError.ReadToEndAsync();
            holder.Dispose();
            mountPoint.Delete();
            throw new InvalidOperationException($"the throwaway root could not be set up: {error}");
        }

        return new ThrowawayRoot(holder, mountPoint, pid);
    }

    /// <summary>Runs a shell command as root inside the throwaway root.</summary>
    public Task<CommandResult> RunAsync(string command, TimeSpan? timeout = null) =>
        HostCommand.RunAsync(
            "nsenter",
            ["-t", Pid.ToString(CultureInfo.InvariantCulture), "-m", "-n", "chroot", RootPath, "sh", "-c", command],
            new CommandOptions { Timeout = timeout ?? CommandOptions.DefaultTimeout });

    /// <summary>Copies a host file to <paramref name="pathInside"/> in the throwaway root.</summary>
    public async Task CopyInAsync(string hostFile, string pathInside) =>
        (await HostCommand.RunAsync("nsenter", "-t", Pid.ToString(CultureInfo.InvariantCulture), "-m", "cp", hostFile, RootPath + pathInside)).EnsureSuccess();

    public async ValueTask DisposeAsync()
    {
        // The namespaces and every mount in them end with their last process.
        _holder.Kill(entireProcessTree: true);
        await _holder.WaitForExitAsync();
        _holder.Dispose();
        _mountPoint.Delete(recursive: false);
    }
}
