namespace Trellis.Cli.Tests;

/// <summary>
/// `trellis server migrate-to-postgres` refuses what it cannot use before it opens anything, and never
/// repeats the connection string it was given (the copy itself is tested in the Control tests).
/// </summary>
public sealed class MigrateToPostgresVerbTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-migrate-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Without_a_connection_string_it_says_where_to_put_one()
    {
        var (code, _, error) = Cli.Run("server", "migrate-to-postgres", "--data-dir", _directory);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("--connection-file FILE", error, StringComparison.Ordinal);
        Assert.Contains("TRELLIS_POSTGRES_CONNECTION", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_holds_no_connection_string_is_refused_without_echoing_it()
    {
        var file = Path.Combine(_directory, "postgres.conn");
        File.WriteAllText(file, "s3cret-password-not-a-connection-string\n");
        var (code, _, error) = Cli.Run("server", "migrate-to-postgres", "--data-dir", _directory, "--connection-file", file);
        Assert.Equal(CommandLine.UsageError, code);
        Assert.Contains("does not hold a PostgreSQL connection string", error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_database_file_nothing_is_connected_to()
    {
        var file = Path.Combine(_directory, "postgres.conn");
        File.WriteAllText(file, "Host=127.0.0.1;Port=1;Username=trellis;Password=s3cret;Database=trellis");
        var (code, _, error) = Cli.Run("server", "migrate-to-postgres", "--data-dir", _directory, "--connection-file", file);
        Assert.Equal(CommandLine.Failure, code);
        Assert.Contains($"no SQLite database at {Path.Combine(_directory, "trellis.db")}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", error, StringComparison.Ordinal);
    }
}
