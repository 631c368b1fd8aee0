using System.Globalization;
using System.Text.Json;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Node;

/// <summary>
/// `trellis server` on a public host of a <see cref="NatLab"/> and `trellis daemon`s on other hosts,
/// all real processes in their own namespaces, driven through the CLI as a person would.
/// </summary>
public sealed class MeshLab : IAsyncDisposable
{
    // A safety net only (see LabControlServer.StartTimeout).
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);

    private static readonly Lazy<Task> LeftoversDeleted = new(() => NetNamespace.DeleteLeftoversAsync());

    private readonly ITestOutputHelper _output;
    private readonly List<LabProcess> _processes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-meshlab-").FullName;
    private readonly TrellisExecutable _trellis = TrellisExecutable.Locate();
    private string? _serverConfig;
    private LabTls? _tls;

    private MeshLab(NatLab lab, ITestOutputHelper output)
    {
        Lab = lab;
        _output = output;
    }

    public NatLab Lab { get; }

    public NatHost ServerHost { get; private set; } = null!;

    public LabProcess Server { get; private set; } = null!;

    public string ServerUrl => LabControlServer.Url(ServerHost, _tls);

    /// <summary>The same server for IPv6-only sites.</summary>
    public string ServerUrlV6 => LabControlServer.UrlV6(ServerHost, _tls);

    public string ServerDataDirectory => Path.Combine(_directory, "server");

    public string AuthKey { get; private set; } = "";

    /// <summary>Standalone relays listed as the mesh's regions instead of the server's own (see <see cref="StartAsync"/>).</summary>
    public LabRelayRegions? RelayRegions { get; private set; }

    /// <summary>The running `trellis relay` of each region, by index; null once stopped.</summary>
    public LabProcess?[] Relays { get; private set; } = [];

    /// <param name="relayRegions">When above 0, that many standalone relays on public hosts of their own, one region each, replace the server's relay.</param>
    /// <param name="serverConfig">More YAML for the server's configuration, given the server's host (e.g. a dns: section naming a nameserver there).</param>
    /// <param name="tls">The TLS certificate of the server and of each standalone relay, for its host (URLs are then https://); null: plain HTTP.</param>
    /// <param name="caCertificate">A private CA file the standalone relays trust for the server's certificate (--ca-cert).</param>
    /// <param name="relayArguments">More flags for each standalone relay.</param>
    public static async Task<MeshLab> StartAsync(
        ITestOutputHelper output, int relayRegions = 0, Func<NatHost, string>? serverConfig = null, Func<NatHost, LabTls>? tls = null, string? caCertificate = null,
        IReadOnlyList<string>? relayArguments = null)
    {
        LabRequirements.EnsureAvailable([.. NatLab.RequiredTools, "ping"]);
        await LeftoversDeleted.Value;
        var lab = await NatLab.CreateAsync();
        var mesh = new MeshLab(lab, output);
        try
        {
            mesh.ServerHost = await lab.AddPublicHostAsync();
            mesh._serverConfig = serverConfig?.Invoke(mesh.ServerHost);
            mesh._tls = tls?.Invoke(mesh.ServerHost);
            if (relayRegions > 0)
            {
                var hosts = new List<NatHost>();
                for (var i = 0; i < relayRegions; i++)
                {
                    hosts.Add(await lab.AddPublicHostAsync());
                }

                mesh.RelayRegions = new LabRelayRegions(hosts) { Tls = tls, CaCertificate = caCertificate, ExtraArguments = relayArguments ?? [] };
                mesh.Relays = new LabProcess?[relayRegions];
            }

            await mesh.StartServerAsync();
            for (var i = 0; i < relayRegions; i++)
            {
                await mesh.StartRelayAsync(i);
            }

            await mesh.AdminAsync("users", "create", "lab");
            mesh.AuthKey = (await mesh.AdminAsync("authkeys", "create", "--user", "lab", "--reusable")).StandardOutput.Trim();
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    public async Task StartServerAsync()
    {
        Server = await LabControlServer.StartAsync(_trellis, ServerHost, ServerDataDirectory, relays: RelayRegions, extraConfig: _serverConfig, tls: _tls);
        lock (_processes)
        {
            _processes.Add(Server);
        }
    }

    /// <summary>Starts the standalone relay of region <paramref name="index"/> (again).</summary>
    public async Task StartRelayAsync(int index)
    {
        var relay = await RelayRegions!.StartAsync(_trellis, index, ServerUrl, Path.Combine(_directory, LabRelayRegions.Code(index)));
        Relays[index] = relay;
        lock (_processes)
        {
            _processes.Add(relay);
        }
    }

    /// <summary>Cuts region <paramref name="index"/>: its relay process (and the STUN server in it) stops.</summary>
    public async Task StopRelayAsync(int index)
    {
        await Relays[index]!.StopAsync();
        Relays[index] = null;
    }

    /// <summary>An admin verb over the server's own admin socket (no API key), run on the server host.</summary>
    public async Task<CommandResult> AdminAsync(params string[] arguments)
    {
        var result = await Run(ServerHost, [.. arguments, "--admin-socket", Path.Combine(ServerDataDirectory, "admin.sock")]);
        return result.EnsureSuccess();
    }

    /// <summary>A host running `trellis daemon`, not yet up: on the shared segment, or behind <paramref name="router"/>.</summary>
    /// <param name="daemonArguments">More flags for `trellis daemon` (e.g. --ca-cert FILE).</param>
    public async Task<LabNode> AddNodeAsync(string name, NatRouter? router = null, params string[] daemonArguments)
    {
        var host = router is null ? await Lab.AddPublicHostAsync() : await router.AddHostAsync();
        var node = new LabNode(this, host, name, Path.Combine(_directory, name));
        Directory.CreateDirectory(node.StateDirectory);
        await node.StartDaemonAsync(daemonArguments);
        return node;
    }

    internal LabProcess Start(NatHost host, params string[] arguments)
    {
        var process = host.Namespace.StartProcess(_trellis.FileName, [.. _trellis.LeadingArguments, .. arguments]);
        lock (_processes)
        {
            _processes.Add(process);
        }

        return process;
    }

    internal Task<CommandResult> Run(NatHost host, params string[] arguments) => Run(host, CommandOptions.Default, arguments);

    internal async Task<CommandResult> Run(NatHost host, CommandOptions options, params string[] arguments)
    {
        var result = await host.Namespace.ExecAsync(_trellis.FileName, [.. _trellis.LeadingArguments, .. arguments], options);
        _output.WriteLine($"trellis {string.Join(' ', arguments)} in {host.Namespace}: {result}");
        return result;
    }

    public async ValueTask DisposeAsync()
    {
        LabProcess[] processes;
        lock (_processes)
        {
            processes = [.. _processes];
        }

        foreach (var process in processes)
        {
            await process.StopAsync();
            _output.WriteLine($"--- {process.CommandLine} (exit {process.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}) ---\n{process.Output.TrimEnd()}");
        }

        await Lab.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>One device of a <see cref="MeshLab"/>: a daemon with its own state directory and socket.</summary>
public sealed class LabNode(MeshLab mesh, NatHost host, string name, string stateDirectory)
{
    public NatHost Host { get; } = host;

    public string Name { get; } = name;

    public string StateDirectory { get; } = stateDirectory;

    public string Socket => Path.Combine(StateDirectory, "trellis.sock");

    public LabProcess Daemon { get; private set; } = null!;

    public async Task StartDaemonAsync(params string[] extra)
    {
        Daemon = mesh.Start(Host, ["daemon", "--state-dir", StateDirectory, "--socket", Socket, .. extra]);
        await Poll.UntilAsync(() => File.Exists(Socket) || Daemon.HasExited, MeshLab.StartTimeout, $"the daemon of {Name}");
        Assert.False(Daemon.HasExited, $"the daemon of {Name} exited: {Daemon.Output}");
    }

    public Task UpAsync(params string[] extra) => UpWithKeyAsync(mesh.AuthKey, extra);

    /// <summary>`trellis up` with an auth key of its own (another user's, or one with tags).</summary>
    public async Task UpWithKeyAsync(string authKey, params string[] extra)
    {
        var server = Host.IPv4 is null ? mesh.ServerUrlV6 : mesh.ServerUrl;
        var result = await mesh.Run(Host, CommandOptions.Up, ["up", "--socket", Socket, "--server", server, "--authkey", authKey, "--hostname", Name, .. extra]);
        result.EnsureSuccess();
    }

    public Task<CommandResult> RunAsync(params string[] arguments) => mesh.Run(Host, [.. arguments, "--socket", Socket]);

    /// <summary>What `trellis status --json` of this node prints, read from its local API.</summary>
    public Task<JsonElement> StatusAsync() => DaemonStatus.ReadAsync(Socket);

    /// <summary>This node's status entry for <paramref name="peer"/> (by hostname).</summary>
    public async Task<JsonElement> PeerAsync(string peer) =>
        (await StatusAsync()).GetProperty("peers").EnumerateArray().Single(p => p.GetProperty("hostname").GetString() == peer);

    /// <summary>How this node reaches <paramref name="peer"/> now: "direct", "relay", "peer-relay" or "none".</summary>
    public async Task<string?> PathAsync(string peer) => (await PeerAsync(peer)).GetProperty("path").GetString();

    /// <summary>This node's overlay addresses (IPv4 first), from its own status.</summary>
    public async Task<string[]> AddressesAsync()
    {
        var status = await StatusAsync();
        return [.. status.GetProperty("self").GetProperty("addresses").EnumerateArray().Select(a => a.GetString()!.Split('/')[0])];
    }

    public async Task<bool> PingAsync(string address)
    {
        var result = await Host.Namespace.ExecAsync("ping", ["-c", "1", "-W", "1", address], CommandOptions.Default);
        return result.Succeeded;
    }
}
