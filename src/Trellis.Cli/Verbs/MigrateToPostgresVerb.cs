using System.CommandLine;
using System.Net.Sockets;
using Trellis.Control.Server;
using Trellis.Control.Store;

namespace Trellis.Cli.Verbs;

/// <summary>
/// `trellis server migrate-to-postgres`: copies a stopped server's SQLite database into an empty
/// PostgreSQL database. The connection string comes from a file or the environment, never a flag:
/// it usually holds a password, and a flag would show it in the process list and shell history.
/// </summary>
internal static class MigrateToPostgresVerb
{
    public const string ConnectionVariable = "TRELLIS_POSTGRES_CONNECTION";

    public static Command Build()
    {
        var config = new Option<string?>("--config") { Description = "The server's YAML configuration file (where its data directory and database are)." };
        var dataDir = new Option<string?>("--data-dir") { Description = "The server's data directory, when not in the configuration." };
        var database = new Option<string?>("--database") { Description = "The SQLite file, when not DATA-DIR/trellis.db or in the configuration." };
        var connectionFile = new Option<string?>("--connection-file")
        {
            Description = $"A file holding the PostgreSQL connection string (default: the {ConnectionVariable} variable).",
        };
        var command = new Command(
            "migrate-to-postgres",
            "Copy a stopped server's SQLite database into an empty PostgreSQL database, keeping every id; then point the server's database at it.");
        command.Options.Add(config);
        command.Options.Add(dataDir);
        command.Options.Add(database);
        command.Options.Add(connectionFile);
        command.SetAction(parse => Run(
            parse.GetValue(config),
            new Dictionary<string, string?> { ["data-dir"] = parse.GetValue(dataDir), ["database"] = parse.GetValue(database) },
            parse.GetValue(connectionFile),
            parse.InvocationConfiguration.Output,
            parse.InvocationConfiguration.Error));
        return command;
    }

    private static int Run(string? configFile, Dictionary<string, string?> flags, string? connectionFile, TextWriter output, TextWriter error)
    {
        var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value);
        ServerOptions options;
        string connection;
        try
        {
            options = ServerOptionsLoader.Load(configFile, flags, environment);
            if (options.UsesPostgres)
            {
                throw new ServerConfigurationException("this server's database is already PostgreSQL (database or TRELLIS_DATABASE); there is no SQLite file to migrate");
            }

            connection = ReadConnectionString(connectionFile, environment);
        }
        catch (Exception e) when (e is ServerConfigurationException or StoreMoveRefusedException)
        {
            error.WriteLine($"trellis server migrate-to-postgres: {e.Message}");
            return CommandLine.UsageError;
        }

        try
        {
            if (!File.Exists(options.SqlitePath))
            {
                throw new StoreMoveRefusedException($"there is no SQLite database at {options.SqlitePath}; give the server's --config, or --data-dir / --database");
            }

            if (ServerIsRunning(options.EffectiveAdminSocket))
            {
                throw new StoreMoveRefusedException(
                    $"the server is running (its admin socket {options.EffectiveAdminSocket} answers); stop it first, or what it writes after the copy would be lost");
            }

            var copied = SqliteToPostgres.CopyAsync(TrellisDbContextFactory.SqliteFile(options.SqlitePath), TrellisDbContextFactory.Postgres(connection))
                .GetAwaiter().GetResult();
            output.WriteLine($"trellis server migrate-to-postgres: copied {options.SqlitePath} to {SqliteToPostgres.Describe(connection)}:");
            foreach (var (table, rows) in copied)
            {
                output.WriteLine($"  {table + ":",-17} {rows}");
            }

            output.WriteLine("Next: keep the data directory (server.key stays the server's identity), set the server's database to the connection string");
            output.WriteLine($"(TRELLIS_DATABASE in the service's environment file keeps the password out of the YAML), and start it. {options.SqlitePath} is unchanged.");
            return CommandLine.Success;
        }
        catch (Exception e) when (e is StoreMoveRefusedException or DatabaseUnusableException or System.Data.Common.DbException or IOException or UnauthorizedAccessException
                                      or InvalidOperationException or Microsoft.EntityFrameworkCore.DbUpdateException)
        {
            error.WriteLine($"trellis server migrate-to-postgres: {e.Message}");
            return CommandLine.Failure;
        }
    }

    private static string ReadConnectionString(string? file, IReadOnlyDictionary<string, string?> environment)
    {
        if (file is not null)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreMoveRefusedException($"cannot read the connection file {file}: {e.Message}");
            }

            return SqliteToPostgres.ValidConnectionString(text, $"the connection file {file}");
        }

        if (environment.TryGetValue(ConnectionVariable, out var variable) && !string.IsNullOrWhiteSpace(variable))
        {
            return SqliteToPostgres.ValidConnectionString(variable, ConnectionVariable);
        }

        throw new StoreMoveRefusedException(
            $"give the PostgreSQL connection string in a file (--connection-file FILE) or in {ConnectionVariable}; it is never taken as a flag, since it holds a password");
    }

    private static bool ServerIsRunning(string adminSocket)
    {
        if (!File.Exists(adminSocket))
        {
            return false;
        }

        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(adminSocket));
            return true;
        }
        catch (SocketException)
        {
            return false; // a socket file left by a server that stopped
        }
    }
}
