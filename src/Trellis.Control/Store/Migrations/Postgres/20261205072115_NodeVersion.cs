using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class NodeVersion : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Version",
                table: "Nodes",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Version",
                table: "Nodes");
        }
    }
}
