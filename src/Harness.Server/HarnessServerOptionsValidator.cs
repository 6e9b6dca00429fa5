using Microsoft.Extensions.Options;

namespace Harness.Server;

/// <summary>Reports every configuration error at once, not only the first.</summary>
internal sealed class HarnessServerOptionsValidator : IValidateOptions<HarnessServerOptions>
{
    public ValidateOptionsResult Validate(string? name, HarnessServerOptions options)
    {
        var errors = new List<string>();
        var provider = options.Database.Provider;
        if (provider is not (DatabaseOptions.Sqlite or DatabaseOptions.Postgres))
        {
            errors.Add($"Harness:Database:Provider: '{provider}' is not supported; use 'sqlite' or 'postgres'.");
        }
        if (string.IsNullOrWhiteSpace(options.Database.ConnectionString))
        {
            errors.Add("Harness:Database:ConnectionString: required (HARNESS_DATABASE_URL).");
        }
        else if (provider is DatabaseOptions.Sqlite or DatabaseOptions.Postgres
            && !Data.ConnectionStrings.TryNormalize(provider, options.Database.ConnectionString, out _, out var problem))
        {
            errors.Add($"Harness:Database:ConnectionString: not a valid {provider} connection string (HARNESS_DATABASE_URL): {problem}");
        }
        if (options.OnlineWindowSec is < 1 or > 86_400)
        {
            errors.Add($"Harness:OnlineWindowSec: {options.OnlineWindowSec} is out of range; use 1 to 86400 seconds.");
        }
        if (options.MaxRequestBodyBytes is < 1024 or > 1024L * 1024 * 1024)
        {
            errors.Add($"Harness:MaxRequestBodyBytes: {options.MaxRequestBodyBytes} is out of range; use 1 KiB to 1 GiB.");
        }
        if (options.AdminToken is { Length: < 16 })
        {
            errors.Add("Harness:AdminToken: HARNESS_ADMIN_TOKEN must be at least 16 characters.");
        }
        if (options.EnrollmentSecret is { Length: < 16 })
        {
            errors.Add("Harness:EnrollmentSecret: NODE_AGENT_SHARED_SECRET must be at least 16 characters.");
        }
        var dispatch = options.Dispatch;
        if (dispatch.LeaseSec is < 5 or > 86_400)
        {
            errors.Add($"Harness:Dispatch:LeaseSec: {dispatch.LeaseSec} is out of range; use 5 to 86400 seconds (LOST_AGENT_TIMEOUT_SEC).");
        }
        if (dispatch.MaxPullWaitMs is < 0 or > 120_000)
        {
            errors.Add($"Harness:Dispatch:MaxPullWaitMs: {dispatch.MaxPullWaitMs} is out of range; use 0 to 120000.");
        }
        if (dispatch.SweepIntervalSec is < 0.05 or > 3600)
        {
            errors.Add($"Harness:Dispatch:SweepIntervalSec: {dispatch.SweepIntervalSec} is out of range; use 0.05 to 3600.");
        }
        if (dispatch.DefaultStepTimeoutMs < 1 || dispatch.DefaultUploadTimeoutMs < 1 || dispatch.TaskOverheadMs < 0 || dispatch.DeadlineMarginSec < 0)
        {
            errors.Add("Harness:Dispatch: timeouts must be positive.");
        }
        if (dispatch.CallbackWriters is < 0 or > 64)
        {
            errors.Add($"Harness:Dispatch:CallbackWriters: {dispatch.CallbackWriters} is out of range; use 0 (no grouping) to 64.");
        }
        if (dispatch.ClaimWriters is < 0 or > 64)
        {
            errors.Add($"Harness:Dispatch:ClaimWriters: {dispatch.ClaimWriters} is out of range; use 0 (no grouping) to 64.");
        }
        if (dispatch.DefaultRunConcurrency is < 1 or > 10_000)
        {
            errors.Add($"Harness:Dispatch:DefaultRunConcurrency: {dispatch.DefaultRunConcurrency} is out of range; use 1 to 10000.");
        }
        if (string.IsNullOrWhiteSpace(options.Artifacts.Root))
        {
            errors.Add("Harness:Artifacts:Root: required (HARNESS_ARTIFACTS_DIR).");
        }
        if (options.Artifacts.MaxBytes is < 1 or > 4L * 1024 * 1024 * 1024)
        {
            errors.Add($"Harness:Artifacts:MaxBytes: {options.Artifacts.MaxBytes} is out of range; use 1 byte to 4 GiB.");
        }
        if (options.Runtime.KeySecret is { Length: < 32 })
        {
            errors.Add("Harness:Runtime:KeySecret: HARNESS_RUNTIME_KEY_SECRET must be at least 32 characters.");
        }
        var ws = options.Workspaces;
        Check(errors, "AgentCallTimeoutSec", ws.AgentCallTimeoutSec, 1, 3600);
        Check(errors, "ArchiveTimeoutSec", ws.ArchiveTimeoutSec, 1, 86_400);
        Check(errors, "StateDeadlineSec", ws.StateDeadlineSec, 1, 86_400);
        Check(errors, "HealthIntervalSec", ws.HealthIntervalSec, 1, 3600);
        Check(errors, "HealthTimeoutSec", ws.HealthTimeoutSec, 1, 600);
        Check(errors, "HealthMaxBackoffSec", ws.HealthMaxBackoffSec, 1, 86_400);
        Check(errors, "HealthFailureThreshold", ws.HealthFailureThreshold, 1, 1000);
        Check(errors, "ReconcileIntervalSec", ws.ReconcileIntervalSec, 1, 86_400);
        Check(errors, "IdleStopMinutes", ws.IdleStopMinutes, 0, 525_600);
        Check(errors, "IdleCheckIntervalSec", ws.IdleCheckIntervalSec, 1, 86_400);
        if (ws.HealthMaxBackoffSec < ws.HealthIntervalSec)
        {
            errors.Add($"Harness:Workspaces:HealthMaxBackoffSec: {ws.HealthMaxBackoffSec} is below HealthIntervalSec ({ws.HealthIntervalSec}); the backoff's cap must be at least the interval.");
        }
        if (ws.MaxArchiveBytes is < 1 or > 1024L * 1024 * 1024 * 1024)
        {
            errors.Add($"Harness:Workspaces:MaxArchiveBytes: {ws.MaxArchiveBytes} is out of range; use 1 byte to 1 TiB.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Check(List<string> errors, string name, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add($"Harness:Workspaces:{name}: {value} is out of range; use {min} to {max}.");
        }
    }
}
