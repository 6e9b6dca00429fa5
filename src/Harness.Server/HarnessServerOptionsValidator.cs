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
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
