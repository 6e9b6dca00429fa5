using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Harness.Server.Data.Configurations;

internal sealed class AgentConfiguration : IEntityTypeConfiguration<AgentEntity>
{
    public void Configure(EntityTypeBuilder<AgentEntity> agent)
    {
        agent.ToTable("agents");
        agent.HasKey(a => a.Id);
        agent.Property(a => a.Name).HasMaxLength(Limits.NameLength);
        agent.HasIndex(a => a.Name).IsUnique();
        agent.Property(a => a.ApiKeyId).HasMaxLength(64);
        agent.HasIndex(a => a.ApiKeyId).IsUnique();
        agent.Property(a => a.ApiKeyHash).HasMaxLength(32);
        agent.Property(a => a.Runtimes).HasMaxLength(128);
        agent.Property(a => a.Status).HasMaxLength(16);
        agent.Property(a => a.Region).HasMaxLength(Limits.NameLength);
        agent.Property(a => a.Labels).IsJson();
        agent.Property(a => a.Endpoint).HasMaxLength(Limits.UrlLength);
        agent.Property(a => a.Version).HasMaxLength(64);
        agent.Property(a => a.LastErrorMessage).HasMaxLength(Limits.MessageLength);
    }
}

internal sealed class WorkerHeartbeatConfiguration : IEntityTypeConfiguration<WorkerHeartbeatEntity>
{
    public void Configure(EntityTypeBuilder<WorkerHeartbeatEntity> heartbeat)
    {
        heartbeat.ToTable("worker_heartbeats");
        heartbeat.HasKey(h => h.WorkerId);
        heartbeat.Property(h => h.WorkerId).HasMaxLength(Limits.NameLength);
    }
}

internal sealed class DeviceConfiguration : IEntityTypeConfiguration<DeviceEntity>
{
    public void Configure(EntityTypeBuilder<DeviceEntity> device)
    {
        device.ToTable("devices");
        device.HasKey(d => d.DeviceId);
        device.Property(d => d.DeviceId).HasMaxLength(Limits.DeviceIdLength);
        device.Property(d => d.RuntimeHandle).HasMaxLength(Limits.DeviceIdLength);
        device.HasIndex(d => d.IndexNo).IsUnique();
        device.Property(d => d.Label).HasMaxLength(Limits.NameLength);
        device.Property(d => d.NodeId).HasMaxLength(Limits.NameLength);
        device.Property(d => d.Model).HasMaxLength(Limits.NameLength);
        device.Property(d => d.State).HasMaxLength(16);
        device.Property(d => d.LastErrorMessage).HasMaxLength(Limits.MessageLength);
        device.Property(d => d.Labels).IsJson();
        device.HasIndex(d => d.AgentId);
        device.HasOne<AgentEntity>().WithMany().HasForeignKey(d => d.AgentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WorkflowConfiguration : IEntityTypeConfiguration<WorkflowEntity>
{
    public void Configure(EntityTypeBuilder<WorkflowEntity> workflow)
    {
        workflow.ToTable("workflows");
        workflow.HasKey(w => new { w.Id, w.Version });
        workflow.Property(w => w.Name).HasMaxLength(Limits.NameLength);
        workflow.HasIndex(w => new { w.Name, w.Version }).IsUnique();
        workflow.Property(w => w.Definition).IsJson();
        workflow.Property(w => w.CreatedBy).HasMaxLength(Limits.NameLength);
    }
}

internal sealed class CommandAssetConfiguration : IEntityTypeConfiguration<CommandAssetEntity>
{
    public void Configure(EntityTypeBuilder<CommandAssetEntity> asset)
    {
        asset.ToTable("command_assets");
        asset.HasKey(a => a.Id);
        asset.Property(a => a.Name).HasMaxLength(Limits.NameLength);
        asset.HasIndex(a => a.Name).IsUnique();
        asset.Property(a => a.Description).HasMaxLength(Limits.MessageLength);
        asset.Property(a => a.Steps).IsJson();
        asset.Property(a => a.Params).IsJson();
    }
}

internal sealed class PlaybookConfiguration : IEntityTypeConfiguration<PlaybookEntity>
{
    public void Configure(EntityTypeBuilder<PlaybookEntity> playbook)
    {
        playbook.ToTable("playbooks");
        playbook.HasKey(p => p.Id);
        playbook.Property(p => p.Name).HasMaxLength(Limits.NameLength);
        playbook.HasIndex(p => p.Name).IsUnique();
        playbook.Property(p => p.Items).IsJson();
        playbook.Property(p => p.CreatedBy).HasMaxLength(Limits.NameLength);
    }
}

internal sealed class RunConfiguration : IEntityTypeConfiguration<RunEntity>
{
    public void Configure(EntityTypeBuilder<RunEntity> run)
    {
        run.ToTable("runs");
        run.HasKey(r => r.Id);
        run.Property(r => r.Target).IsJson();
        run.Property(r => r.Vars).IsJson();
        run.Property(r => r.Subject).HasMaxLength(Limits.NameLength);
        run.Property(r => r.Status).HasMaxLength(16);
        run.Property(r => r.CreatedBy).HasMaxLength(Limits.NameLength);
        run.Property(r => r.LastErrorMessage).HasMaxLength(Limits.MessageLength);
        run.HasIndex(r => r.CreatedAt);
        run.HasIndex(r => r.Status);
        run.HasOne<PlaybookEntity>().WithMany().HasForeignKey(r => r.PlaybookId).OnDelete(DeleteBehavior.Restrict);
        run.HasOne<WorkflowEntity>().WithMany().HasForeignKey(r => new { r.WorkflowId, r.WorkflowVersion }).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RunDeviceStateConfiguration : IEntityTypeConfiguration<RunDeviceStateEntity>
{
    public void Configure(EntityTypeBuilder<RunDeviceStateEntity> state)
    {
        state.ToTable("run_device_states");
        state.HasKey(s => new { s.RunId, s.DeviceId });
        state.Property(s => s.DeviceId).HasMaxLength(Limits.DeviceIdLength);
        state.Property(s => s.Status).HasMaxLength(16);
        state.Property(s => s.FailureReason).HasMaxLength(Limits.MessageLength);
        state.Property(s => s.CompiledWorkflow).IsJson();
        state.Property(s => s.LeaseOwner).HasMaxLength(Limits.NameLength);
        state.Property(s => s.NodeId).HasMaxLength(Limits.NameLength);
        state.HasIndex(s => new { s.Status, s.DeviceId });
        // The dispatcher claims queued work per agent; the sweeper scans expiring leases.
        state.HasIndex(s => new { s.AgentId, s.Status });
        state.HasIndex(s => s.LeaseExpiresAt);
        state.HasOne<RunEntity>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunCounterMoveConfiguration : IEntityTypeConfiguration<RunCounterMoveEntity>
{
    public void Configure(EntityTypeBuilder<RunCounterMoveEntity> move)
    {
        move.ToTable("run_counter_moves");
        move.HasKey(m => m.Id);
        move.HasIndex(m => m.RunId);
        move.HasOne<RunEntity>().WithMany().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RunStepConfiguration : IEntityTypeConfiguration<RunStepEntity>
{
    public void Configure(EntityTypeBuilder<RunStepEntity> step)
    {
        step.ToTable("run_steps");
        step.HasKey(s => s.Id);
        step.Property(s => s.DeviceId).HasMaxLength(Limits.DeviceIdLength);
        step.Property(s => s.StepId).HasMaxLength(Limits.NameLength);
        step.Property(s => s.Type).HasMaxLength(32);
        step.Property(s => s.Status).HasMaxLength(16);
        step.HasIndex(s => new { s.RunId, s.DeviceId, s.StepId, s.Attempt }).IsUnique();
        step.HasOne<RunEntity>().WithMany().HasForeignKey(s => s.RunId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ArtifactConfiguration : IEntityTypeConfiguration<ArtifactEntity>
{
    public void Configure(EntityTypeBuilder<ArtifactEntity> artifact)
    {
        artifact.ToTable("artifacts");
        artifact.HasKey(a => a.Id);
        artifact.Property(a => a.Kind).HasMaxLength(32);
        artifact.Property(a => a.ContentType).HasMaxLength(128);
        artifact.Property(a => a.Sha256).HasMaxLength(64);
        artifact.Property(a => a.StoragePath).HasMaxLength(Limits.UrlLength);
        artifact.HasIndex(a => a.StoragePath).IsUnique();
        artifact.Property(a => a.DeviceId).HasMaxLength(Limits.DeviceIdLength);
        artifact.Property(a => a.StepId).HasMaxLength(Limits.NameLength);
        artifact.HasIndex(a => new { a.RunId, a.DeviceId });
        artifact.HasIndex(a => a.JobId);
        artifact.Property(a => a.EventId).HasMaxLength(Limits.NameLength);
        artifact.HasIndex(a => a.EventId).IsUnique();
    }
}

internal sealed class CallbackEventConfiguration : IEntityTypeConfiguration<CallbackEventEntity>
{
    public void Configure(EntityTypeBuilder<CallbackEventEntity> callback)
    {
        callback.ToTable("callback_events");
        callback.HasKey(c => c.EventId);
        callback.Property(c => c.EventId).HasMaxLength(Limits.NameLength);
        callback.Property(c => c.Type).HasMaxLength(32);
        callback.Property(c => c.DeviceId).HasMaxLength(Limits.DeviceIdLength);
    }
}

internal sealed class ScanJobConfiguration : IEntityTypeConfiguration<ScanJobEntity>
{
    public void Configure(EntityTypeBuilder<ScanJobEntity> scan)
    {
        scan.ToTable("scan_jobs");
        scan.HasKey(s => s.Id);
        scan.Property(s => s.Status).HasMaxLength(16);
        scan.Property(s => s.RequestedBy).HasMaxLength(Limits.NameLength);
        scan.Property(s => s.Result).IsJson();
        scan.Property(s => s.LastErrorMessage).HasMaxLength(Limits.MessageLength);
        scan.HasIndex(s => new { s.AgentId, s.Status });
        scan.HasOne<AgentEntity>().WithMany().HasForeignKey(s => s.AgentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class JobConfiguration : IEntityTypeConfiguration<JobEntity>
{
    public void Configure(EntityTypeBuilder<JobEntity> job)
    {
        job.ToTable("jobs");
        job.HasKey(j => j.Id);
        job.Property(j => j.Type).HasMaxLength(32);
        job.Property(j => j.Status).HasMaxLength(16);
        job.Property(j => j.WorkspaceId).HasMaxLength(Limits.NameLength);
        job.Property(j => j.Spec).IsJson();
        job.Property(j => j.Result).IsJson();
        job.Property(j => j.LastErrorMessage).HasMaxLength(Limits.MessageLength);
        job.Property(j => j.CreatedBy).HasMaxLength(Limits.NameLength);
        // GET /jobs pages newest first by (created_at, id).
        job.HasIndex(j => new { j.CreatedAt, j.Id });
        job.HasIndex(j => new { j.AgentId, j.Status });
        job.Property(j => j.Reason).HasMaxLength(32);
        job.Property(j => j.Backend).HasMaxLength(32);
        job.Property(j => j.SecretsSealed).HasMaxLength(Limits.SealedSecretsLength);
        // Claims look for queued jobs of a type, oldest first; the sweeper for expired leases.
        job.HasIndex(j => new { j.Type, j.Status, j.CreatedAt });
        job.HasIndex(j => new { j.Status, j.LeaseUntil });
    }
}

internal sealed class JobLogConfiguration : IEntityTypeConfiguration<JobLogEntity>
{
    public void Configure(EntityTypeBuilder<JobLogEntity> log)
    {
        log.ToTable("job_logs");
        log.HasKey(l => new { l.JobId, l.Seq });
        log.Property(l => l.Stream).HasMaxLength(16);
        log.Property(l => l.Text).HasMaxLength(Limits.LogLineLength);
        log.HasOne<JobEntity>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class WorkspaceConfiguration : IEntityTypeConfiguration<WorkspaceEntity>
{
    public void Configure(EntityTypeBuilder<WorkspaceEntity> workspace)
    {
        workspace.ToTable("workspaces");
        workspace.HasKey(w => w.Id);
        workspace.Property(w => w.Name).HasMaxLength(Limits.NameLength);
        workspace.HasIndex(w => w.Name).IsUnique();
        workspace.Property(w => w.Image).HasMaxLength(Limits.UrlLength);
        workspace.Property(w => w.Volume).HasMaxLength(Limits.NameLength);
        workspace.Property(w => w.Status).HasMaxLength(16);
        workspace.Property(w => w.Upstream).HasMaxLength(Limits.UrlLength);
        workspace.Property(w => w.Region).HasMaxLength(Limits.NameLength);
        workspace.Property(w => w.Labels).IsJson();
        workspace.Property(w => w.LastErrorMessage).HasMaxLength(Limits.MessageLength);
        workspace.Property(w => w.Env).IsJson();
        workspace.HasIndex(w => new { w.AgentId, w.Status });
        workspace.HasIndex(w => new { w.Status, w.StateDeadlineAt });
        workspace.HasIndex(w => new { w.CreatedAt, w.Id });
    }
}

internal sealed class WorkspaceArchiveConfiguration : IEntityTypeConfiguration<WorkspaceArchiveEntity>
{
    public void Configure(EntityTypeBuilder<WorkspaceArchiveEntity> archive)
    {
        archive.ToTable("workspace_archives");
        archive.HasKey(a => a.Id);
        archive.Property(a => a.Status).HasMaxLength(16);
        archive.Property(a => a.Sha256).HasMaxLength(64);
        archive.Property(a => a.StoragePath).HasMaxLength(Limits.UrlLength);
        archive.HasIndex(a => a.WorkspaceId);
    }
}

internal sealed class ServerSettingConfiguration : IEntityTypeConfiguration<ServerSettingEntity>
{
    public void Configure(EntityTypeBuilder<ServerSettingEntity> setting)
    {
        setting.ToTable("server_settings");
        setting.HasKey(s => s.Key);
        setting.Property(s => s.Key).HasMaxLength(Limits.NameLength);
        setting.Property(s => s.Value).HasMaxLength(Limits.MessageLength);
    }
}

internal sealed class AuditLogConfiguration : IEntityTypeConfiguration<AuditLogEntity>
{
    public void Configure(EntityTypeBuilder<AuditLogEntity> audit)
    {
        audit.ToTable("audit_log");
        audit.HasKey(a => a.Id);
        audit.Property(a => a.Actor).HasMaxLength(Limits.NameLength);
        audit.Property(a => a.Action).HasMaxLength(64);
        audit.Property(a => a.Subject).HasMaxLength(Limits.NameLength);
        audit.Property(a => a.Details).IsJson();
        audit.HasIndex(a => a.At);
    }
}

internal sealed class UserConfiguration : IEntityTypeConfiguration<UserEntity>
{
    public void Configure(EntityTypeBuilder<UserEntity> user)
    {
        user.ToTable("users");
        user.HasKey(u => u.Id);
        user.Property(u => u.Name).HasMaxLength(Limits.NameLength);
        user.HasIndex(u => u.Name).IsUnique();
        user.Property(u => u.Role).HasMaxLength(16);
    }
}

internal sealed class OperatorTokenConfiguration : IEntityTypeConfiguration<OperatorTokenEntity>
{
    public void Configure(EntityTypeBuilder<OperatorTokenEntity> token)
    {
        token.ToTable("operator_tokens");
        token.HasKey(t => t.Id);
        token.Property(t => t.Name).HasMaxLength(Limits.NameLength);
        token.Property(t => t.Role).HasMaxLength(16);
        token.Property(t => t.TokenId).HasMaxLength(64);
        token.HasIndex(t => t.TokenId).IsUnique();
        token.Property(t => t.TokenHash).HasMaxLength(32);
        token.HasOne<UserEntity>().WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}
