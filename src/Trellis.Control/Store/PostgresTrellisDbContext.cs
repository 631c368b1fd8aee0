using Microsoft.EntityFrameworkCore;

namespace Trellis.Control.Store;

/// <summary>PostgreSQL (Npgsql) for larger sites. Migrations in Migrations/Postgres.</summary>
public sealed class PostgresTrellisDbContext(DbContextOptions<PostgresTrellisDbContext> options) : TrellisDbContext(options)
{
    public override StoreProvider Provider => StoreProvider.Postgres;
}
