using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Trellis.Control.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SingleSignOnUsers : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "Email",
                table: "Users",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "IdentityGroups",
                table: "Users",
                type: "TEXT",
                nullable: false,
                defaultValue: "[]");

            migrationBuilder.AddColumn<string>(
                name: "IdentityIssuer",
                table: "Users",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "IdentitySubject",
                table: "Users",
                type: "TEXT",
                maxLength: 255,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_Users_IdentityIssuer_IdentitySubject",
                table: "Users",
                columns: new[] { "IdentityIssuer", "IdentitySubject" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Users_IdentityIssuer_IdentitySubject",
                table: "Users");

            migrationBuilder.DropColumn(
                name: "Email",
                table: "Users");

            migrationBuilder.DropColumn(
                name: "IdentityGroups",
                table: "Users");

            migrationBuilder.DropColumn(
                name: "IdentityIssuer",
                table: "Users");

            migrationBuilder.DropColumn(
                name: "IdentitySubject",
                table: "Users");
        }
    }
}
