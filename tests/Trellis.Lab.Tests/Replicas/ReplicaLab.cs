using System.Globalization;
using System.Text.Json;
using Trellis.Lab.Tests.Node;
using Xunit.Abstractions;

namespace Trellis.Lab.Tests.Replicas;

/// <summary>
/// Several `trellis server` replicas, each on a public lab host of its own, sharing one throwaway
/// PostgreSQL database (the local cluster, reached over its Unix socket, which network namespaces
/// do not hide) and one server key, plus `trellis daemon`s on other hosts.
/// </summary>
public sealed class ReplicaLab : IAsyncDisposable
{
    private static readonly Lazy<Task> LeftoversDeleted = new(() => NetNamespace.DeleteLeftoversAsync());

    private readonly ITestOutputHelper _output;
    private readonly List<LabProcess> _processes = [];
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-replicalab-").FullName;
    private readonly TrellisExecutable _trellis = TrellisExecutable.Locate();
    private readonly string _databaseName = $"trellis_lab_{Guid.NewGuid():N}";

    private ReplicaLab(NatLab lab, ITestOutputHelper output)
    {
        Lab = lab;
        _output = output;
    }

    public NatLab Lab { get; }

    public NatHost[] Hosts { get; private set; } = [];

    /// <summary>Each replica's running process, null while it is down.</summary>
    public LabProcess?[] Servers { get; private set; } = [];

    public string AuthKey { get; private set; } = "";

    private string Database => $"Host=/var/run/postgresql;Username={Environment.UserName};Database={_databaseName}";

    public string Url(int replica) => LabControlServer.Url(Hosts[replica]);

    public string DataDirectory(int replica) => Path.Combine(_directory, $"server{replica}");

    public static async Task<ReplicaLab> StartAsync(ITestOutputHelper output, int replicas)
    {
        LabRequirements.EnsureAvailable([.. NatLab.RequiredTools, "ping", "psql", "curl"]);
        await LeftoversDeleted.Value;
        var lab = await NatLab.CreateAsync();
        var mesh = new ReplicaLab(lab, output);
        try
        {
            (await HostCommand.RunAsync("psql", "-h", "/var/run/postgresql", "-d", "postgres", "-c", $"CREATE DATABASE \"{mesh._databaseName}\"")).EnsureSuccess();
            mesh.Hosts = new NatHost[replicas];
            mesh.Servers = new LabProcess?[replicas];
            for (var i = 0; i < replicas; i++)
            {
                mesh.Hosts[i] = await lab.AddPublicHostAsync();
            }

            // The first replica makes the server key and migrates the database; the others share the key.
            await mesh.StartServerAsync(0);
            for (var i = 1; i < replicas; i++)
            {
                Directory.CreateDirectory(mesh.DataDirectory(i));
                File.Copy(Path.Combine(mesh.DataDirectory(0), "server.key"), Path.Combine(mesh.DataDirectory(i), "server.key"));
                await mesh.StartServerAsync(i);
            }

            await mesh.AdminAsync(0, "users", "create", "lab");
            mesh.AuthKey = (await mesh.AdminAsync(0, "authkeys", "create", "--user", "lab", "--reusable")).StandardOutput.Trim();
            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts replica <paramref name="replica"/> (again, on its data directory).</summary>
    public async Task StartServerAsync(int replica)
    {
        var server = await LabControlServer.StartAsync(_trellis, Hosts[replica], DataDirectory(replica), extraConfig: $"database: \"{Database}\"");
        Servers[replica] = server;
        lock (_processes)
        {
            _processes.Add(server);
        }
    }

    /// <summary>kill -9: the replica gets no chance to close anything.</summary>
    public async Task KillServerAsync(int replica)
    {
        var server = Servers[replica]!;
        server.Signal(UnixSignal.Kill);
        await server.WaitForExitAsync(MeshLabTimeouts.Exit);
        Servers[replica] = null;
    }

    /// <summary>The rows <paramref name="sql"/> returns from the replicas' database, one line each, columns split by '|'.</summary>
    public async Task<string[][]> QueryAsync(string sql)
    {
        var result = (await HostCommand.RunAsync("psql", "-h", "/var/run/postgresql", "-d", _databaseName, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql)).EnsureSuccess();
        return [.. result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split('|'))];
    }

    /// <summary>How many node connections the replica holds now (its /health).</summary>
    public async Task<int> ConnectedAsync(int replica)
    {
        var result = await Hosts[replica].Namespace.ExecAsync("curl", ["-sf", "--max-time", "5", $"{Url(replica)}/health"], CommandOptions.Default);
        return result.Succeeded ? JsonDocument.Parse(result.StandardOutput).RootElement.GetProperty("connected").GetInt32() : 0;
    }

    /// <summary>An admin verb over replica <paramref name="replica"/>'s own admin socket, run on its host.</summary>
    public async Task<CommandResult> AdminAsync(int replica, params string[] arguments)
    {
        var result = await Run(Hosts[replica], [.. arguments, "--admin-socket", Path.Combine(DataDirectory(replica), "admin.sock")]);
        return result.EnsureSuccess();
    }

    /// <summary>
    /// A host running `trellis daemon`, brought up with every replica's URL, <paramref name="first"/>'s
    /// first; with <paramref name="onlyFirst"/>, with that one URL alone (the others it learns from its map).
    /// </summary>
    public async Task<ReplicaNode> AddNodeAsync(string name, int first, bool onlyFirst = false)
    {
        var host = await Lab.AddPublicHostAsync();
        var node = new ReplicaNode(host, name, Path.Combine(_directory, name));
        Directory.CreateDirectory(node.StateDirectory);
        var daemon = host.Namespace.StartProcess(_trellis.FileName, [.. _trellis.LeadingArguments, "daemon", "--state-dir", node.StateDirectory, "--socket", node.Socket]);
        lock (_processes)
        {
            _processes.Add(daemon);
        }

        await Poll.UntilAsync(() => File.Exists(node.Socket) || daemon.HasExited, MeshLabTimeouts.Start, $"the daemon of {name}");
        Assert.False(daemon.HasExited, $"the daemon of {name} exited: {daemon.Output}");
        var servers = onlyFirst ? Url(first) : string.Join(',', Enumerable.Range(0, Hosts.Length).Select(i => Url((first + i) % Hosts.Length)));
        (await Run(host, CommandOptions.Up, ["up", "--socket", node.Socket, "--server", servers, "--authkey", AuthKey, "--hostname", name])).EnsureSuccess();
        return node;
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
        await HostCommand.RunAsync("psql", "-h", "/var/run/postgresql", "-d", "postgres", "-c", $"DROP DATABASE IF EXISTS \"{_databaseName}\" WITH (FORCE)");
        Directory.Delete(_directory, recursive: true);
    }
}

/// <summary>Generous safety nets for the replica lab (the machine is shared and busy); nothing is timed against them.</summary>
internal static class MeshLabTimeouts
{
    public static readonly TimeSpan Start = TimeSpan.FromSeconds(120);

    public static readonly TimeSpan Exit = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
}

/// <summary>One daemon of a <see cref="ReplicaLab"/>.</summary>
public sealed class ReplicaNode(NatHost host, string name, string stateDirectory)
{
    public NatHost Host { get; } = host;

    public string Name { get; } = name;

    public string StateDirectory { get; } = stateDirectory;

    public string Socket => Path.Combine(StateDirectory, "trellis.sock");

    public Task<JsonElement> StatusAsync() => DaemonStatus.ReadAsync(Socket);

    public async Task<string[]> PeerNamesAsync() =>
        [.. (await StatusAsync()).GetProperty("peers").EnumerateArray().Select(p => p.GetProperty("hostname").GetString()!).Order()];

    public async Task<string> AddressAsync() =>
        (await StatusAsync()).GetProperty("self").GetProperty("addresses").EnumerateArray().First().GetString()!.Split('/')[0];

    public async Task<bool> PingAsync(string address)
    {
        var result = await Host.Namespace.ExecAsync("ping", ["-c", "1", "-W", "1", address], CommandOptions.Default);
        return result.Succeeded;
    }
}
