using System.Globalization;
using System.Security.Cryptography;

namespace Trellis.Lab;

/// <summary>
/// A Linux network namespace owned by this process. Names are <c>{prefix}{pid}-{random}</c>, so a
/// later run can tell the namespaces of a crashed run (dead pid) from those of a concurrent one
/// (<see cref="DeleteLeftoversAsync"/>). Programs run inside it through <c>ip netns exec</c>; disposing
/// stops the programs started here, kills whatever else still runs inside, and deletes the namespace.
/// </summary>
public sealed class NetNamespace : IAsyncDisposable, IDisposable
{
    public const string DefaultPrefix = "trl-";

    private readonly List<LabProcess> _processes = [];
    private bool _disposed;

    private NetNamespace(string name) => Name = name;

    public string Name { get; }

    public override string ToString() => Name;

    /// <summary>/etc/netns/NAME: files here replace their /etc namesakes for programs run inside.</summary>
    public string EtcDirectory => EtcDirectoryOf(Name);

    /// <summary>What programs inside see as /etc/resolv.conf (a documentation-range nameserver until changed).</summary>
    public string ResolvConfPath => Path.Combine(EtcDirectory, "resolv.conf");

    /// <summary>Creates a namespace with its loopback up.</summary>
    public static async Task<NetNamespace> CreateAsync(string prefix = DefaultPrefix, CancellationToken cancellationToken = default)
    {
        ValidatePrefix(prefix);
        var name = string.Create(
            CultureInfo.InvariantCulture,
            $"{prefix}{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}");
        await Ip(cancellationToken, "netns", "add", name).ConfigureAwait(false);
        var ns = new NetNamespace(name);
        try
        {
            // `ip netns exec` mounts this over /etc/resolv.conf, so a daemon that points the host's
            // resolver at its mesh changes the namespace's copy, never the machine's.
            Directory.CreateDirectory(ns.EtcDirectory);
            await File.WriteAllTextAsync(ns.ResolvConfPath, $"# lab namespace {name}\nnameserver 192.0.2.53\n", cancellationToken).ConfigureAwait(false);
            await ns.IpAsync(cancellationToken, "link", "set", "lo", "up").ConfigureAwait(false);
        }
        catch
        {
            await ns.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return ns;
    }

    /// <summary>Runs <c>ip -n NAME args...</c> and requires success.</summary>
    public Task<CommandResult> IpAsync(params string[] arguments) => IpAsync(CancellationToken.None, arguments);

    /// <summary>Runs <c>ip -n NAME args...</c> and requires success.</summary>
    public Task<CommandResult> IpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        Ip(cancellationToken, ["-n", Name, .. arguments]);

    /// <summary>Runs a program inside the namespace to completion (success not required).</summary>
    public Task<CommandResult> ExecAsync(string fileName, params string[] arguments) =>
        ExecAsync(fileName, arguments, CommandOptions.Default);

    /// <summary>Runs a program inside the namespace to completion (success not required).</summary>
    public Task<CommandResult> ExecAsync(
        string fileName,
        IEnumerable<string> arguments,
        CommandOptions? options,
        CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return HostCommand.RunAsync("ip", ["netns", "exec", Name, fileName, .. arguments], options, cancellationToken);
    }

    /// <summary>
    /// Starts a long-running program inside the namespace. <c>ip netns exec</c> execs the program, so the
    /// returned process is the program itself and signals reach it directly. Stopped on dispose.
    /// </summary>
    public LabProcess StartProcess(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var process = LabProcess.Start("ip", ["netns", "exec", Name, fileName, .. arguments], environment);
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    /// <summary>Reads <c>/sys/class/net/IF/statistics/STAT</c> (e.g. rx_packets) as seen inside the namespace.</summary>
    public async Task<long> ReadInterfaceStatisticAsync(string interfaceName, string statistic, CancellationToken cancellationToken = default)
    {
        var result = (await ExecAsync(
            "cat",
            [$"/sys/class/net/{interfaceName}/statistics/{statistic}"],
            CommandOptions.Default,
            cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        return long.Parse(result.StandardOutput.Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Whether a network interface of that name exists in the namespace.</summary>
    public async Task<bool> HasInterfaceAsync(string interfaceName, CancellationToken cancellationToken = default)
    {
        var result = await HostCommand.RunAsync(
            "ip",
            ["-n", Name, "link", "show", "dev", interfaceName],
            CommandOptions.Default,
            cancellationToken).ConfigureAwait(false);
        return result.Succeeded;
    }

    /// <summary>
    /// Deletes namespaces named <c>{prefix}{pid}-…</c> whose pid is no longer alive (left by a crashed
    /// run), killing what still runs inside them first. Returns the names deleted.
    /// </summary>
    public static async Task<IReadOnlyList<string>> DeleteLeftoversAsync(string prefix = DefaultPrefix, CancellationToken cancellationToken = default)
    {
        ValidatePrefix(prefix);
        var list = await Ip(cancellationToken, "netns", "list").ConfigureAwait(false);
        var deleted = new List<string>();
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = line.Split(' ', 2)[0];
            if (TryParseOwner(name, prefix, out var pid) && !IsAlive(pid))
            {
                await KillEverythingInsideAsync(name).ConfigureAwait(false);
                var result = await HostCommand.RunAsync("ip", ["netns", "delete", name], CommandOptions.Default, cancellationToken)
                    .ConfigureAwait(false);
                if (result.Succeeded)
                {
                    DeleteEtc(name);
                    deleted.Add(name);
                }
            }
        }

        return deleted;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        LabProcess[] processes;
        lock (_processes)
        {
            processes = [.. _processes];
            _processes.Clear();
        }

        await Task.WhenAll(processes.Select(p => p.DisposeAsync().AsTask())).ConfigureAwait(false);
        await KillEverythingInsideAsync(Name).ConfigureAwait(false);
        await HostCommand.RunAsync("ip", ["netns", "delete", Name], CommandOptions.Default).ConfigureAwait(false);
        DeleteEtc(Name);
    }

    private static string EtcDirectoryOf(string name) => Path.Combine("/etc/netns", name);

    private static void DeleteEtc(string name)
    {
        if (Directory.Exists(EtcDirectoryOf(name)))
        {
            Directory.Delete(EtcDirectoryOf(name), recursive: true);
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>The pid of the process that created a namespace named {prefix}{pid}-…, if the name has that form.</summary>
    public static bool TryParseOwner(string name, string prefix, out int pid)
    {
        pid = 0;
        if (!name.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = name.AsSpan(prefix.Length);
        var dash = rest.IndexOf('-');
        return dash > 0 && int.TryParse(rest[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out pid);
    }

    private static bool IsAlive(int pid) => Directory.Exists(string.Create(CultureInfo.InvariantCulture, $"/proc/{pid}"));

    private static async Task KillEverythingInsideAsync(string name)
    {
        var pids = await HostCommand.RunAsync("ip", ["netns", "pids", name], CommandOptions.Default).ConfigureAwait(false);
        foreach (var token in pids.StandardOutput.Split((char[])['\n', ' '], StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                NativeMethods.SendSignal(pid, UnixSignal.Kill);
            }
        }
    }

    private static async Task<CommandResult> Ip(CancellationToken cancellationToken, params string[] arguments) =>
        (await HostCommand.RunAsync("ip", arguments, CommandOptions.Default, cancellationToken).ConfigureAwait(false)).EnsureSuccess();

    private static void ValidatePrefix(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        if (prefix.Length > 32 || !prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            throw new ArgumentException("a namespace prefix is up to 32 ASCII letters, digits, '-' or '_'", nameof(prefix));
        }
    }
}
