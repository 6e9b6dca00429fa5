using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Harness.Server.Data.Migrations.Postgres
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
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "cancel_requested_at",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "lease_until",
                table: "jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "log_lines",
                table: "jobs",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<string>(
                name: "reason",
                table: "jobs",
                type: "character varying(32)",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "secrets_sealed",
                table: "jobs",
                type: "character varying(98304)",
                maxLength: 98304,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "job_logs",
                columns: table => new
                {
                    job_id = table.Column<Guid>(type: "uuid", nullable: false),
                    seq = table.Column<long>(type: "bigint", nullable: false),
                    stream = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    text = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: false),
                    at = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
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
