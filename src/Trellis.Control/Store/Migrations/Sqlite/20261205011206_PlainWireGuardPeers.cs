using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PlainWireGuardPeers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "GatewayEndpoint",
                table: "Nodes",
                type: "TEXT",
                maxLength: 260,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "GatewayId",
                table: "Nodes",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "WireGuardGateway",
                table: "Nodes",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "IX_Nodes_GatewayId",
                table: "Nodes",
                column: "GatewayId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Nodes_GatewayId",
                table: "Nodes");

            migrationBuilder.DropColumn(
                name: "GatewayEndpoint",
                table: "Nodes");

            migrationBuilder.DropColumn(
                name: "GatewayId",
                table: "Nodes");

            migrationBuilder.DropColumn(
                name: "WireGuardGateway",
                table: "Nodes");
        }
    }
}
