using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

/// <summary>The embedded default: one file in the data directory. Migrations in Migrations/Sqlite.</summary>
public sealed class SqliteTrellisDbContext(DbContextOptions<SqliteTrellisDbContext> options) : TrellisDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.Sqlite;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        base.ConfigureConventions(configurationBuilder);
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<UtcTextTimestampConverter>();
    }
}
