using System.Globalization;
using Trellis.Lab;

namespace Trellis.Packaging.Tests;

/// <summary>
/// A container started detached with podman (as root) on a lab namespace standing in for the host, its
/// output followed as it is written; disposing removes it with its anonymous volumes, whatever state it
/// reached. Every podman command for it runs in that namespace: podman's network (CNI) turns on IP
/// forwarding and adds its port-forwarding rules in the network namespace podman runs in, and on the
/// machine itself that would change what every new lab namespace inherits (ip_forward) while other
/// tests run.
/// </summary>
internal sealed class PodmanContainer : IAsyncDisposable
{
    /// <summary>
    /// runc, not crun (podman's first choice where both are installed): crun refuses this machine's mixed
    /// cgroup v1/v2 hierarchy. Podman gives a root container limits of about a million open files and
    /// processes, above this machine's hard limits, which runc may not raise: these are below them.
    /// </summary>
    public static readonly IReadOnlyList<string> RunOptions = ["--runtime", "runc", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"];

    private readonly NetNamespace _host;
    private readonly LabProcess _logs;

    private PodmanContainer(NetNamespace host, string name, LabProcess logs)
    {
        _host = host;
        Name = name;
        _logs = logs;
    }

    public string Name { get; }

    /// <summary>What the container printed so far.</summary>
    public string Output => _logs.Output;

    /// <summary>True once the container stopped (`podman logs --follow` ends with it).</summary>
    public bool HasExited => _logs.HasExited;

    public static async Task<PodmanContainer> StartAsync(NetNamespace host, string name, string image, IEnumerable<string> options, IEnumerable<string> command)
    {
        // A run that fails at the runtime leaves a created container behind: remove it there too.
        var run = await PodmanAsync(host, ["run", "--detach", "--name", name, .. RunOptions, .. options, image, .. command]);
        if (!run.Succeeded)
        {
            await RemoveAsync(host, name);
            throw new LabCommandException(run);
        }

        return new PodmanContainer(host, name, LabProcess.Start("podman", ["logs", "--follow", name]));
    }

    /// <summary>Runs podman in <paramref name="host"/>'s network namespace (only: the machine's mounts, where podman's storage is).</summary>
    public static Task<CommandResult> PodmanAsync(NetNamespace host, IEnumerable<string> arguments) =>
        HostCommand.RunAsync("nsenter", [$"--net=/run/netns/{host.Name}", "podman", .. arguments], CommandOptions.Default);

    /// <summary>Waits until the container prints <paramref name="text"/>; fails with its output if it stops first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        await Poll.UntilAsync(() => Output.Contains(text, StringComparison.Ordinal) || HasExited, timeout, $"\"{text}\" from container {Name}");
        if (!Output.Contains(text, StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"container {Name} stopped before it printed \"{text}\":\n{Output}");
        }
    }

    /// <summary>The container's address on podman's bridge, where other containers reach it.</summary>
    public async Task<string> AddressAsync() =>
        (await PodmanAsync(_host, ["inspect", "--format", "{{.NetworkSettings.IPAddress}}", Name])).EnsureSuccess().StandardOutput.Trim();

    /// <summary>Runs a command in the running container.</summary>
    public Task<CommandResult> ExecAsync(params string[] command) => PodmanAsync(_host, ["exec", Name, .. command]);

    /// <summary>`podman stop` (SIGTERM, then SIGKILL after <paramref name="grace"/>); returns the container's exit code.</summary>
    public async Task<int> StopAsync(TimeSpan grace)
    {
        (await PodmanAsync(_host, ["stop", "--time", ((int)grace.TotalSeconds).ToString(CultureInfo.InvariantCulture), Name])).EnsureSuccess();
        var exit = (await PodmanAsync(_host, ["inspect", "--format", "{{.State.ExitCode}}", Name])).EnsureSuccess().StandardOutput.Trim();
        return int.Parse(exit, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RemoveAsync(_host, Name);
        }
        finally
        {
            await _logs.DisposeAsync();
        }
    }

    private static async Task RemoveAsync(NetNamespace host, string name) =>
        (await PodmanAsync(host, ["rm", "--force", "--volumes", "--time", "0", "--ignore", name])).EnsureSuccess();
}
