using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Postgres
{
    /// <summary>
    /// Each replica's embedded relay key beside its public URL (PostgreSQL only, written by hand: the
    /// model does not change): the other replicas' relays pin it when they mesh with that relay. See
    /// Replicas/ReplicaRelayMesh.cs.
    /// </summary>
    [DbContext(typeof(PostgresTrellisDbContext))]
    [Migration("20261205230000_ReplicaRelayKey")]
    public partial class ReplicaRelayKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER TABLE "Replicas" ADD COLUMN "RelayKey" text NULL;""");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""ALTER TABLE "Replicas" DROP COLUMN "RelayKey";""");
        }
    }
}
