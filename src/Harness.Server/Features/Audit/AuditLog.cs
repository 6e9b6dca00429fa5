using System.Text.Json;
using Harness.Server.Data;
using Harness.Server.Data.Entities;

namespace Harness.Server.Features.Audit;

/// <summary>Adds an audit row to the caller's unit of work; it commits with the change it records.</summary>
public static class AuditLog
{
    public static void Record(HarnessDbContext db, DateTimeOffset at, string actor, string action, string? subject, object? details = null) =>
        db.AuditLog.Add(new AuditLogEntity
        {
            At = at,
            Actor = actor,
            Action = action,
            Subject = subject,
            Details = details is null ? null : JsonSerializer.Serialize(details, AuditJson.Options),
        });

    private static class AuditJson
    {
        public static readonly JsonSerializerOptions Options = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    }
}
