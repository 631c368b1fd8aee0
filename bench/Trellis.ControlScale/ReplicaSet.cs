using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using Npgsql;
using Trellis.Control.Store;
using Trellis.Core.Keys;

namespace Trellis.ControlScale;

/// <summary>
/// The servers under test: one `trellis server` on SQLite in a temporary directory, or several
/// replicas sharing one fresh PostgreSQL database (the local cluster over its Unix socket) and one
/// server key, each on its own port (the first port and the ones after it). Disposing stops them,
/// drops the database and deletes the directory; so does an interrupt (SIGINT, SIGTERM).
/// </summary>
internal sealed class ReplicaSet : IAsyncDisposable
{
    private const string PostgresSocket = "/var/run/postgresql";

    // A server start takes tens of seconds on two cores shared with other builds (migrations, JIT).
    private static readonly TimeSpan ServerStart = TimeSpan.FromSeconds(180);
    private static readonly TimeSpan StartPoll = TimeSpan.FromMilliseconds(100);

    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-scale-").FullName;
    private readonly string? _databaseName;
    private readonly List<ServerProcess> _servers = [];
    // Referenced for the process's life: a collected registration stops handling its signal.
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly Uri[] _urls;
    private readonly Lazy<Task> _cleanup;

    private ReplicaSet(int replicas)
    {
        _cleanup = new(CleanUpAsync);
        _urls = new Uri[replicas];
        if (replicas > 1)
        {
            _databaseName = $"trellis_bench_{Guid.NewGuid():N}";
        }

        // Ctrl-C or a kill must not leave a database behind: clean up, then let the signal end the process.
        foreach (var signal in (PosixSignal[])[PosixSignal.SIGINT, PosixSignal.SIGTERM])
        {
            _signals.Add(PosixSignalRegistration.Create(signal, _ => DisposeAsync().AsTask().GetAwaiter().GetResult()));
        }
    }

    public IReadOnlyList<Uri> Urls => _urls;

    public int Count => Urls.Count;

    public Key ServerKey { get; private set; }

    /// <summary>The store the servers share, where the bench creates users, auth keys and the API key.</summary>
    public TrellisDbContextFactory Store => _databaseName is null
        ? TrellisDbContextFactory.SqliteFile(Path.Combine(DataDirectory(0), "trellis.db"))
        : TrellisDbContextFactory.Postgres(Connection(_databaseName));

    // Three replicas under a join storm must stay within the cluster's 100 connections (its default).
    private static string Connection(string database) => $"Host={PostgresSocket};Username={Environment.UserName};Database={database};Maximum Pool Size=30";

    private string DataDirectory(int replica) => Urls.Count == 1 ? _directory : Path.Combine(_directory, $"server{replica}");

    /// <summary>
    /// Starts <paramref name="replicas"/> servers, listening on <paramref name="port"/> onwards, and
    /// waits until each serves its key; one runs on SQLite as the bench always has.
    /// </summary>
    public static async Task<ReplicaSet> StartAsync(string trellis, int port, int replicas, HttpClient http)
    {
        var set = new ReplicaSet(replicas);
        try
        {
            if (set._databaseName is { } name)
            {
                await set.DatabaseCommandAsync($"CREATE DATABASE \"{name}\"").ConfigureAwait(false);
            }

            // The first server makes the server key (and migrates the database); the others share the key.
            await set.StartServerAsync(trellis, 0, port, http).ConfigureAwait(false);
            await Task.WhenAll(Enumerable.Range(1, replicas - 1).Select(i =>
            {
                Directory.CreateDirectory(set.DataDirectory(i));
                File.Copy(Path.Combine(set.DataDirectory(0), "server.key"), Path.Combine(set.DataDirectory(i), "server.key"));
                return set.StartServerAsync(trellis, i, port + i, http);
            })).ConfigureAwait(false);
            return set;
        }
        catch
        {
            await set.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartServerAsync(string trellis, int replica, int port, HttpClient http)
    {
        var url = new Uri($"http://127.0.0.1:{port}");
        _urls[replica] = url;

        // No STUN: the bench does not use it, and two runs (or another engineer's server) can then share the machine.
        // Replicas advertise their URLs, as a deployment's do, so their maps list them and their relays mesh.
        // The default connection limit (10,000) would refuse the joiners of a 10,000-node run.
        string[] common = ["--stun-port", "0", "--max-connections", "100000"];
        string[] extra = _databaseName is null
            ? common
            : [.. common, "--database", Connection(_databaseName), "--public-url", url.ToString().TrimEnd('/')];
        var process = new ServerProcess(trellis, "127.0.0.1", port, DataDirectory(replica), extra);
        lock (_servers)
        {
            _servers.Add(process);
        }

        var started = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var doc = await http.GetFromJsonAsync<JsonElement>(new Uri(url, "/key")).ConfigureAwait(false);
                ServerKey = Key.FromBase64(doc.GetProperty("publicKey").GetString()!);
                return;
            }
            catch (HttpRequestException) when (started.Elapsed < ServerStart)
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the server on port {port} exited while starting (its output is above)");
                }

                await Task.Delay(StartPoll).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Each server's user plus system CPU seconds so far.</summary>
    public double[] CpuSeconds() => [.. Servers.Select(s => s.CpuSeconds())];

    /// <summary>Each server's resident memory now (MiB).</summary>
    public double[] MemoryMiB() => [.. Servers.Select(s => s.MemoryMiB())];

    /// <summary>Each server's peak resident memory (MiB).</summary>
    public double[] PeakMemoryMiB() => [.. Servers.Select(s => s.PeakMemoryMiB())];

    private List<ServerProcess> Servers
    {
        get
        {
            lock (_servers)
            {
                return [.. _servers];
            }
        }
    }

    private async Task DatabaseCommandAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Connection("postgres"));
        await connection.OpenAsync().ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().ConfigureAwait(false);
    }

    /// <summary>Cleans up once; a second caller (the main flow and a signal at once) waits for the first.</summary>
    public ValueTask DisposeAsync() => new(_cleanup.Value);

    private async Task CleanUpAsync()
    {
        foreach (var server in Servers)
        {
            server.Dispose();
        }

        if (_databaseName is { } name)
        {
            try
            {
                await DatabaseCommandAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)").ConfigureAwait(false);
            }
            catch (NpgsqlException e)
            {
                Console.Error.WriteLine($"[bench] could not drop the database {name}: {e.Message}; drop it by hand");
            }
        }

        Directory.Delete(_directory, recursive: true);
    }
}
