using System.Globalization;
using Trellis.Lab;
using Xunit.Abstractions;

namespace Trellis.Packaging.Tests;

/// <summary>
/// The Debian package as an operator meets it, on a copy of this machine with .NET taken away: it
/// installs, `trellis --version` and `trellis-node --version` (the NativeAOT node executable) answer,
/// the server unit's command line starts the server with the packaged configuration, the daemon unit's
/// starts `trellis-node daemon` and both executables' `status` reach it, `apt-get remove` keeps /var/lib/trellis
/// and `apt-get purge` deletes it (apt-get as an operator types it, installing the file as README says).
/// (`scripts/single-file-demo.sh` runs `trellis demo` the same way.)
/// </summary>
[Collection(PublishedTrellisCollection.Name)]
public sealed class DebianPackageTests(PublishedTrellis published, ITestOutputHelper output)
{
    // Safety nets only: compressing and unpacking a 70 MB executable is slow on busy shared cores.
    private static readonly TimeSpan StepTimeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_package_installs_and_runs_its_server_unit_without_dotnet_and_purge_removes_the_data()
    {
        LabRequirements.EnsureAvailable(["ip", "dpkg-deb", "unshare", "nsenter", "setpriv"]);
        output.WriteLine(published.Log);
        using var work = new TemporaryDirectory();
        var deb = (await HostCommand.RunAsync(
            Path.Combine(RepositoryRoot.Path, "scripts", "package-deb.sh"), [published.Directory, work.Path], new CommandOptions { Timeout = StepTimeout })).EnsureSuccess()
            .StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Single(line => line.EndsWith("_amd64.deb", StringComparison.Ordinal));
        output.WriteLine($"package: {Path.GetFileName(deb)}, {new FileInfo(deb).Length / 1048576.0:0.0} MiB");

        await using var root = await ThrowawayRoot.CreateAsync();
        await root.CopyInAsync(deb, "/var/tmp/trellis.deb");
        await Expect(root, "rm -rf /usr/share/dotnet /usr/lib/dotnet /usr/bin/dotnet /root/.dotnet && ! command -v dotnet");

        await Expect(root, "apt-get install -y /var/tmp/trellis.deb");
        var version = await Expect(root, "trellis --version");
        Assert.Matches(@"^trellis \d+\.\d+\.\d+\ncommit  \S+\nruntime \.NET \d", version);
        Assert.Equal(version, await Expect(root, "trellis version"));
        Assert.Matches(@"^trellis \d+\.\d+\.\d+\ncommit  \S+\nruntime \.NET \d", await Expect(root, "trellis-node --version"));
        Assert.Contains("trellis", await Expect(root, "id -un trellis"), StringComparison.Ordinal);
        Assert.Contains("listen: http://127.0.0.1:8080", await Expect(root, "cat /etc/trellis/server.yaml"), StringComparison.Ordinal);

        await StartServerUnitCommandAsync(root);
        await StartDaemonUnitCommandAsync(root);
        Assert.Contains("server.key", await Expect(root, "ls /var/lib/trellis"), StringComparison.Ordinal);

        await Expect(root, "apt-get remove -y trellis");
        Assert.Contains("not installed", (await root.RunAsync("test -e /usr/bin/trellis && echo installed || echo not installed")).StandardOutput, StringComparison.Ordinal);
        Assert.Contains("server.key", await Expect(root, "ls /var/lib/trellis"), StringComparison.Ordinal);
        Assert.Contains("trellis.db", await Expect(root, "ls /var/lib/trellis"), StringComparison.Ordinal);

        await Expect(root, "apt-get purge -y trellis");
        Assert.Contains("gone", (await root.RunAsync("test -e /var/lib/trellis && echo kept || echo gone")).StandardOutput, StringComparison.Ordinal);
        Assert.Contains("gone", (await root.RunAsync("test -e /etc/trellis/server.yaml && echo kept || echo gone")).StandardOutput, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the installed unit's ExecStart as its User with its ambient capability and extraction directory,
    /// as systemd would (there is no systemd in the throwaway root), until the server says it listens.
    /// </summary>
    private async Task StartServerUnitCommandAsync(ThrowawayRoot root)
    {
        var unit = await Expect(root, "cat /lib/systemd/system/trellis-server.service");
        string Setting(string name) => unit.Split('\n').Single(line => line.StartsWith(name + "=", StringComparison.Ordinal))[(name.Length + 1)..];
        var execStart = Setting("ExecStart");
        Assert.StartsWith("/usr/bin/trellis server ", execStart, StringComparison.Ordinal);
        var user = Setting("User");

        var command = $"cd / && exec env DOTNET_BUNDLE_EXTRACT_BASE_DIR=/tmp setpriv --reuid={user} --regid={user} --init-groups " +
            $"--inh-caps=+net_bind_service --ambient-caps=+net_bind_service -- {execStart}";
        await using var server = LabProcess.Start("nsenter", ["-t", root.Pid.ToString(CultureInfo.InvariantCulture), "-m", "-n", "chroot", root.RootPath, "sh", "-c", command]);
        await Poll.UntilAsync(() => server.Output.Contains("listening on", StringComparison.Ordinal) || server.HasExited, LabControlServer.StartTimeout, "the server unit's command");
        output.WriteLine($"--- {execStart} as {user} ---\n{server.Output}");
        Assert.False(server.HasExited, $"the server exited: {server.Output}");
        await server.StopAsync();
    }

    /// <summary>
    /// Runs the installed daemon unit's ExecStart (as root, with the runtime directory systemd would make)
    /// until its local API listens, then asks it for its status with both executables.
    /// </summary>
    private async Task StartDaemonUnitCommandAsync(ThrowawayRoot root)
    {
        var unit = await Expect(root, "cat /lib/systemd/system/trellis-daemon.service");
        var execStart = unit.Split('\n').Single(line => line.StartsWith("ExecStart=", StringComparison.Ordinal))["ExecStart=".Length..];
        Assert.StartsWith("/usr/bin/trellis-node daemon ", execStart, StringComparison.Ordinal);
        var socket = execStart.Split(' ').SkipWhile(a => a != "--socket").Skip(1).First();

        var command = $"mkdir -p /run/trellis /var/lib/trellis-node && cd / && exec {execStart}";
        await using var daemon = LabProcess.Start("nsenter", ["-t", root.Pid.ToString(CultureInfo.InvariantCulture), "-m", "-n", "chroot", root.RootPath, "sh", "-c", command]);
        await Poll.UntilAsync(() => daemon.Output.Contains("local API on", StringComparison.Ordinal) || daemon.HasExited, LabControlServer.StartTimeout, "the daemon unit's command");
        output.WriteLine($"--- {execStart} ---\n{daemon.Output}");
        Assert.False(daemon.HasExited, $"the daemon exited: {daemon.Output}");
        Assert.Contains("stopped", await Expect(root, $"trellis-node status --socket {socket}"), StringComparison.Ordinal);
        Assert.Contains("stopped", await Expect(root, $"trellis status --socket {socket}"), StringComparison.Ordinal);
        await daemon.StopAsync();
    }

    private static async Task<string> Expect(ThrowawayRoot root, string command)
    {
        var result = await root.RunAsync(command, StepTimeout);
        Assert.True(result.Succeeded, $"{result}\n{result.StandardOutput}\n{result.StandardError}");
        return result.StandardOutput;
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("trl-deb-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }
}
