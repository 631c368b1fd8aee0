using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Time.Testing;
using Trellis.Control.Server;
using Trellis.Control.Store;

namespace Trellis.Control.Tests.Store;

/// <summary>The server's SQLite file at start-up: backed up before migrations, named when it is unreadable.</summary>
public sealed class SqliteFileTests : IDisposable
{
    private const string FirstMigration = "20261125230440_Initial";

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-sqlite-").FullName;
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 8, 30, 15, TimeSpan.Zero));

    private string DatabasePath => Path.Combine(_dir, "trellis.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_dir, recursive: true);
    }

    private string[] Backups() => Directory.GetFiles(_dir, "trellis.db.bak-*").Select(Path.GetFileName).ToArray()!;

    [Fact]
    public async Task A_database_with_migrations_to_apply_is_backed_up_beside_itself_first()
    {
        var factory = TrellisDbContextFactory.SqliteFile(DatabasePath, _clock);
        await using (var db = factory.CreateDbContext())
        {
            await db.GetService<IMigrator>().MigrateAsync(FirstMigration);
            await db.Database.ExecuteSqlRawAsync("INSERT INTO Users (Name, CreatedAt) VALUES ('alice', '2026-12-01T00:00:00.0000000Z')");
        }

        File.SetUnixFileMode(DatabasePath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await factory.MigrateAsync();

        var backup = Assert.Single(Backups());
        Assert.Equal($"trellis.db.bak-{FirstMigration}-20261204T083015Z", backup);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_dir, backup)));
        await using (var copy = new SqliteConnection($"Data Source={Path.Combine(_dir, backup)};Pooling=False"))
        {
            await copy.OpenAsync();
            await using var users = copy.CreateCommand();
            users.CommandText = "SELECT Name FROM Users";
            Assert.Equal("alice", await users.ExecuteScalarAsync());
            await using var history = copy.CreateCommand();
            history.CommandText = "SELECT group_concat(MigrationId) FROM __EFMigrationsHistory";
            Assert.Equal(FirstMigration, await history.ExecuteScalarAsync());
        }

        // Up to date now: the next start changes nothing, so it copies nothing.
        _clock.Advance(TimeSpan.FromMinutes(1));
        await factory.MigrateAsync();
        Assert.Single(Backups());
    }

    [Fact]
    public async Task A_new_database_is_not_backed_up()
    {
        await TrellisDbContextFactory.SqliteFile(DatabasePath, _clock).MigrateAsync();

        Assert.True(File.Exists(DatabasePath));
        Assert.Empty(Backups());
    }

    [Fact]
    public async Task A_corrupt_database_file_is_named_in_an_error_that_says_what_to_do()
    {
        await File.WriteAllTextAsync(DatabasePath, new string('x', 8192));

        var error = await Assert.ThrowsAsync<DatabaseUnusableException>(() => TrellisDbContextFactory.SqliteFile(DatabasePath).MigrateAsync());

        Assert.Contains(DatabasePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("not a readable SQLite database", error.Message, StringComparison.Ordinal);
        Assert.Contains("restore it from a backup", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_does_not_start_on_a_corrupt_database_and_says_which_file()
    {
        await File.WriteAllTextAsync(DatabasePath, "this is not a database, it is a text file that ended up here by mistake\n");
        var options = new ServerOptions { Listen = "http://127.0.0.1:0", DataDirectory = _dir, StunPort = 0 };

        var error = await Assert.ThrowsAsync<DatabaseUnusableException>(() => ControlServerHost.StartAsync(options));

        Assert.Contains(DatabasePath, error.Message, StringComparison.Ordinal);
    }
}
