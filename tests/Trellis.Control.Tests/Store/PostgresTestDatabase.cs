using Npgsql;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>
/// A fresh PostgreSQL database per test class, created and dropped through a superuser
/// connection from TRELLIS_TEST_POSTGRES (default: the local Unix socket as the current OS user,
/// which peer authentication accepts once that user has a superuser role). PostgreSQL being
/// unreachable fails the tests: CI provides it, and a skipped store test proves nothing.
/// </summary>
public sealed class PostgresTestDatabase : ITestDatabase, IAsyncLifetime
{
    public const string EnvironmentVariable = "TRELLIS_TEST_POSTGRES";

    private readonly string _name = NewName();

    public StoreProvider Provider => StoreProvider.Postgres;

    public TrellisDbContextFactory Factory { get; private set; } = null!;

    public static string AdminConnectionString
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
            var builder = new NpgsqlConnectionStringBuilder(string.IsNullOrWhiteSpace(configured)
                ? $"Host=/var/run/postgresql;Username={Environment.UserName}"
                : configured);
            builder.Database ??= "postgres";
            return builder.ConnectionString;
        }
    }

    public async Task InitializeAsync()
    {
        Factory = await CreateAsync(_name);
        await Factory.MigrateAsync();
    }

    public Task DisposeAsync() => DropAsync(_name);

    public async Task<ScratchDatabase> CreateScratchAsync()
    {
        var name = NewName();
        return new ScratchDatabase(await CreateAsync(name), () => DropAsync(name));
    }

    /// <summary>A fresh empty database that servers migrate themselves: its connection string, and how to drop it.</summary>
    public static async Task<(string ConnectionString, Func<Task> Drop)> CreateEmptyAsync()
    {
        var name = NewName();
        await CreateAsync(name);
        return (ConnectionStringFor(name), () => DropAsync(name));
    }

    private static string NewName() => $"trellis_test_{Guid.NewGuid():N}";

    private static string ConnectionStringFor(string name) =>
        new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, MaxPoolSize = 40 }.ConnectionString;

    private static async Task<TrellisDbContextFactory> CreateAsync(string name)
    {
        try
        {
            await ExecuteAdminAsync($"CREATE DATABASE \"{name}\"");
        }
        catch (NpgsqlException e)
        {
            throw new InvalidOperationException(
                $"The store tests need PostgreSQL and could not create a database through '{WithoutPassword(AdminConnectionString)}': {e.Message}. " +
                $"Start it (pg_ctlcluster 15 main start) and give this OS user a superuser role " +
                $"(runuser -u postgres -- createuser --superuser {Environment.UserName}), " +
                $"or set {EnvironmentVariable} to a superuser connection string.", e);
        }

        return TrellisDbContextFactory.Postgres(ConnectionStringFor(name));
    }

    private static string WithoutPassword(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Password = null }.ConnectionString;

    private static async Task DropAsync(string name)
    {
        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, MaxPoolSize = 40 };
        await using (var connection = new NpgsqlConnection(builder.ConnectionString))
        {
            NpgsqlConnection.ClearPool(connection);
        }

        await ExecuteAdminAsync($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
    }

    private static async Task ExecuteAdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
