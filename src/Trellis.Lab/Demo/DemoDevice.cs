using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Trellis.Lab.Demo;

/// <summary>A `trellis daemon` of the demo in its own host namespace, driven through the CLI like a person would.</summary>
public sealed partial class DemoDevice
{
    private readonly TrellisExecutable _trellis;

    internal DemoDevice(DemoCity city, NatHost host, string stateDirectory, TrellisExecutable trellis)
    {
        City = city;
        Host = host;
        StateDirectory = stateDirectory;
        _trellis = trellis;
    }

    public DemoCity City { get; }

    public string Name => City.Name;

    public NatHost Host { get; }

    public string StateDirectory { get; }

    public string Socket => Path.Combine(StateDirectory, "trellis.sock");

    public LabProcess Daemon { get; private set; } = null!;

    /// <summary>The device's overlay IPv4 address, known once it is up.</summary>
    public string? OverlayIPv4 { get; private set; }

    internal async Task StartDaemonAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(StateDirectory);
        Daemon = Host.Namespace.StartProcess(_trellis.FileName, [.. _trellis.LeadingArguments, "daemon", "--state-dir", StateDirectory, "--socket", Socket]);
        await Poll.UntilAsync(() => File.Exists(Socket) || Daemon.HasExited, DemoWorld.StartTimeout, $"the daemon of {Name}", cancellationToken)
            .ConfigureAwait(false);
        if (Daemon.HasExited)
        {
            throw new InvalidOperationException($"the daemon of {Name} exited: {Daemon.Output}");
        }
    }

    internal async Task UpAsync(string server, string authKey, IEnumerable<string> extra, CancellationToken cancellationToken)
    {
        (await RunAsync(["up", "--socket", Socket, "--server", server, "--authkey", authKey, "--hostname", Name, .. extra], cancellationToken, CommandOptions.Up)
            .ConfigureAwait(false)).EnsureSuccess();
        using var status = await StatusAsync(cancellationToken).ConfigureAwait(false);
        OverlayIPv4 = status.RootElement.GetProperty("self").GetProperty("addresses").EnumerateArray()
            .Select(a => a.GetString()!.Split('/')[0])
            .First(a => !a.Contains(':', StringComparison.Ordinal));
    }

    /// <summary>`trellis status --json` of this device.</summary>
    public async Task<JsonDocument> StatusAsync(CancellationToken cancellationToken)
    {
        var result = (await RunAsync(["status", "--json", "--socket", Socket], cancellationToken).ConfigureAwait(false)).EnsureSuccess();
        return JsonDocument.Parse(result.StandardOutput);
    }

    /// <summary>The path to each peer by hostname, as <see cref="DemoPaths"/> names it.</summary>
    public async Task<IReadOnlyDictionary<string, string>> PathsAsync(CancellationToken cancellationToken)
    {
        using var status = await StatusAsync(cancellationToken).ConfigureAwait(false);
        var paths = new Dictionary<string, string>(StringComparer.Ordinal);
        if (status.RootElement.TryGetProperty("peers", out var peers))
        {
            foreach (var peer in peers.EnumerateArray())
            {
                var endpoint = peer.TryGetProperty("endpoint", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
                paths[peer.GetProperty("hostname").GetString()!] = DemoPaths.Describe(peer.GetProperty("path").GetString(), endpoint);
            }
        }

        return paths;
    }

    /// <summary>One ping from this device's namespace; the RTT in ms, or null without an answer.</summary>
    public async Task<double?> PingAsync(string address, CancellationToken cancellationToken)
    {
        var result = await Host.Namespace.ExecAsync("ping", ["-c", "1", "-W", "1", address], CommandOptions.Default, cancellationToken)
            .ConfigureAwait(false);
        var match = PingTime().Match(result.StandardOutput);
        return result.Succeeded && match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private Task<CommandResult> RunAsync(string[] arguments, CancellationToken cancellationToken, CommandOptions? options = null) =>
        Host.Namespace.ExecAsync(_trellis.FileName, [.. _trellis.LeadingArguments, .. arguments], options ?? CommandOptions.Default, cancellationToken);

    [GeneratedRegex(@"time[=<]([0-9.]+) ms")]
    private static partial Regex PingTime();
}
