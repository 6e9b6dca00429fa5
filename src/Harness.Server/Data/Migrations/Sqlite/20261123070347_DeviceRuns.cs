using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Harness.Server.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DeviceRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "deadline_at",
                table: "run_device_states",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "node_id",
                table: "run_device_states",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "event_id",
                table: "artifacts",
                type: "TEXT",
                maxLength: 128,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_run_device_states_status_device_id",
                table: "run_device_states",
                columns: new[] { "status", "device_id" });

            migrationBuilder.CreateIndex(
                name: "ix_artifacts_event_id",
                table: "artifacts",
                column: "event_id",
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_run_device_states_status_device_id",
                table: "run_device_states");

            migrationBuilder.DropIndex(
                name: "ix_artifacts_event_id",
                table: "artifacts");

            migrationBuilder.DropColumn(
                name: "deadline_at",
                table: "run_device_states");

            migrationBuilder.DropColumn(
                name: "node_id",
                table: "run_device_states");

            migrationBuilder.DropColumn(
                name: "event_id",
                table: "artifacts");
        }
    }
}
