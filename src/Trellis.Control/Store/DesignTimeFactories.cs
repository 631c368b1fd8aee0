using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Trellis.Control.Store;

/// <summary>
/// Lets the dotnet-ef tool build each context to generate its migrations, e.g.
/// <c>dotnet ef migrations add NAME -p src/Trellis.Control -c SqliteTrellisDbContext -o Store/Migrations/Sqlite</c>.
/// Neither connects anywhere: generating migrations needs only the model.
/// </summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteTrellisDbContext>
{
    public SqliteTrellisDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteTrellisDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

/// <inheritdoc cref="SqliteDesignTimeFactory"/>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresTrellisDbContext>
{
    public PostgresTrellisDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresTrellisDbContext>().UseNpgsql("Host=localhost;Database=trellis").Options);
}
