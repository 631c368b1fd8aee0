using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Postgres
{
    /// <summary>
    /// The running replicas (PostgreSQL only, written by hand: the model does not change). Each
    /// replica adds its row at start and holds an advisory lock named by the row's id while it
    /// runs; a row whose lock is free belongs to a replica that died. See Replicas/ReplicaRoster.cs.
    /// </summary>
    [DbContext(typeof(PostgresTrellisDbContext))]
    [Migration("20261205140000_ReplicaRoster")]
    public partial class ReplicaRoster : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE "Replicas" (
                    "Id" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    "Origin" text NOT NULL UNIQUE,
                    "Url" text NULL,
                    "StartedAt" timestamp with time zone NOT NULL DEFAULT now()
                );
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""DROP TABLE "Replicas";""");
        }
    }
}
