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
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
