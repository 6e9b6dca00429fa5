using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Harness.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Workspaces : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "archive_id",
                table: "workspaces",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "archived_at",
                table: "workspaces",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "cpu",
                table: "workspaces",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "env",
                table: "workspaces",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "error_from_health_check",
                table: "workspaces",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<int>(
                name: "memory_mb",
                table: "workspaces",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "port",
                table: "workspaces",
                type: "INTEGER",
                nullable: false,
                defaultValue: 8080);

            migrationBuilder.AddColumn<int>(
                name: "consecutive_health_failures",
                table: "agents",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<long>(
                name: "next_health_at",
                table: "agents",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "server_settings",
                columns: table => new
                {
                    key = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_server_settings", x => x.key);
                });

            migrationBuilder.CreateTable(
                name: "workspace_archives",
                columns: table => new
                {
                    id = table.Column<Guid>(type: "TEXT", nullable: false),
                    workspace_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    agent_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    restore_agent_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    job_id = table.Column<Guid>(type: "TEXT", nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    bytes = table.Column<long>(type: "INTEGER", nullable: true),
                    sha256 = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    storage_path = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    created_at = table.Column<long>(type: "INTEGER", nullable: false),
                    stored_at = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_workspace_archives", x => x.id);
                });

            migrationBuilder.CreateIndex(
                name: "ix_workspaces_created_at_id",
                table: "workspaces",
                columns: new[] { "created_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_workspaces_status_state_deadline_at",
                table: "workspaces",
                columns: new[] { "status", "state_deadline_at" });

            migrationBuilder.CreateIndex(
                name: "ix_workspace_archives_workspace_id",
                table: "workspace_archives",
                column: "workspace_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "server_settings");

            migrationBuilder.DropTable(
                name: "workspace_archives");

            migrationBuilder.DropIndex(
                name: "ix_workspaces_created_at_id",
                table: "workspaces");

            migrationBuilder.DropIndex(
                name: "ix_workspaces_status_state_deadline_at",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "archive_id",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "archived_at",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "cpu",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "env",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "error_from_health_check",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "memory_mb",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "port",
                table: "workspaces");

            migrationBuilder.DropColumn(
                name: "consecutive_health_failures",
                table: "agents");

            migrationBuilder.DropColumn(
                name: "next_health_at",
                table: "agents");
        }
    }
}
