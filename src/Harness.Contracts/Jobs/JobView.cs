namespace Harness.Contracts.Jobs;

/// <summary>A generic unit of work (sandbox job, archive/restore, scan) as <c>GET /jobs</c> lists it.</summary>
public sealed record JobView(
    Guid Id,
    string Type,
    string Status,
    Guid? AgentId,
    string? WorkspaceId,
    int? ExitCode,
    string? LastErrorMessage,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt);
