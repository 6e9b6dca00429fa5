using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Harness.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SandboxJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "backend",
                table: "jobs",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "cancel_requested_at",
                table: "jobs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "lease_until",
                table: "jobs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "log_lines",
                table: "jobs",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "reason",
                table: "jobs",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "secrets_sealed",
                table: "jobs",
                type: "TEXT",
                maxLength: 98304,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "job_logs",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "TEXT", nullable: false),
                    seq = table.Column<long>(type: "INTEGER", nullable: false),
                    stream = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    text = table.Column<string>(type: "TEXT", maxLength: 16384, nullable: false),
                    at = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_job_logs", x => new { x.job_id, x.seq });
                    table.ForeignKey(
                        name: "fk_job_logs_jobs_job_id",
                        column: x => x.job_id,
                        principalTable: "jobs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_status_lease_until",
                table: "jobs",
                columns: new[] { "status", "lease_until" });

            migrationBuilder.CreateIndex(
                name: "ix_jobs_type_status_created_at",
                table: "jobs",
                columns: new[] { "type", "status", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "job_logs");

            migrationBuilder.DropIndex(
                name: "ix_jobs_status_lease_until",
                table: "jobs");

            migrationBuilder.DropIndex(
                name: "ix_jobs_type_status_created_at",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "backend",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "cancel_requested_at",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "lease_until",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "log_lines",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "reason",
                table: "jobs");

            migrationBuilder.DropColumn(
                name: "secrets_sealed",
                table: "jobs");
        }
    }
}
