using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddressesAtApprovalDiscoKeyIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AlterColumn<string>(
                name: "IPv6",
                table: "Nodes",
                type: "TEXT",
                maxLength: 45,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 45);

            migrationBuilder.AlterColumn<string>(
                name: "IPv4",
                table: "Nodes",
                type: "TEXT",
                maxLength: 45,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 45);

            migrationBuilder.CreateIndex(
                name: "IX_Nodes_DiscoKey",
                table: "Nodes",
                column: "DiscoKey");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Nodes_DiscoKey",
                table: "Nodes");

            migrationBuilder.AlterColumn<string>(
                name: "IPv6",
                table: "Nodes",
                type: "TEXT",
                maxLength: 45,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 45,
                oldNullable: true);

            migrationBuilder.AlterColumn<string>(
                name: "IPv4",
                table: "Nodes",
                type: "TEXT",
                maxLength: 45,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 45,
                oldNullable: true);
        }
    }
}
