using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Postgres
{
    /// <summary>
    /// The replicas' change feed (PostgreSQL only, written by hand: the model does not change).
    /// Triggers append every change of a node, a user or the policy to "MeshChanges" inside the
    /// transaction that makes it, and NOTIFY the sequence on commit; see Replicas/ChangeFeed.cs.
    /// </summary>
    [DbContext(typeof(PostgresTrellisDbContext))]
    [Migration("20261205100000_MeshChangeFeed")]
    public partial class MeshChangeFeed : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                CREATE TABLE "MeshChanges" (
                    "Seq" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    "Kind" smallint NOT NULL,
                    "SubjectId" bigint NOT NULL,
                    "Origin" text NOT NULL,
                    "At" timestamp with time zone NOT NULL DEFAULT now()
                );
                CREATE INDEX "IX_MeshChanges_At" ON "MeshChanges" ("At");

                CREATE FUNCTION trellis_note_mesh_change() RETURNS trigger LANGUAGE plpgsql AS $$
                DECLARE
                    seq bigint;
                BEGIN
                    INSERT INTO "MeshChanges" ("Kind", "SubjectId", "Origin")
                    VALUES (TG_ARGV[0]::smallint,
                            CASE WHEN TG_OP = 'DELETE' THEN OLD."Id" ELSE NEW."Id" END,
                            coalesce(current_setting('trellis.origin', true), ''))
                    RETURNING "Seq" INTO seq;
                    PERFORM pg_notify('trellis_mesh', seq::text);
                    RETURN NULL;
                END
                $$;

                CREATE TRIGGER "Nodes_MeshChange_InsertDelete" AFTER INSERT OR DELETE ON "Nodes"
                    FOR EACH ROW EXECUTE FUNCTION trellis_note_mesh_change('1');
                CREATE TRIGGER "Nodes_MeshChange_Update" AFTER UPDATE ON "Nodes"
                    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION trellis_note_mesh_change('1');
                CREATE TRIGGER "Users_MeshChange" AFTER UPDATE ON "Users"
                    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION trellis_note_mesh_change('2');
                CREATE TRIGGER "AccessPolicies_MeshChange" AFTER INSERT OR UPDATE OR DELETE ON "AccessPolicies"
                    FOR EACH ROW EXECUTE FUNCTION trellis_note_mesh_change('3');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                DROP TRIGGER "AccessPolicies_MeshChange" ON "AccessPolicies";
                DROP TRIGGER "Users_MeshChange" ON "Users";
                DROP TRIGGER "Nodes_MeshChange_Update" ON "Nodes";
                DROP TRIGGER "Nodes_MeshChange_InsertDelete" ON "Nodes";
                DROP FUNCTION trellis_note_mesh_change();
                DROP TABLE "MeshChanges";
                """);
        }
    }
}
