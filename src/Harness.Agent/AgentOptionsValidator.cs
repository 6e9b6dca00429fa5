using Microsoft.Extensions.Options;

namespace Harness.Agent;

/// <summary>Lists every configuration error at start-up, not only the first.</summary>
internal sealed class AgentOptionsValidator : IValidateOptions<AgentOptions>
{
    public ValidateOptionsResult Validate(string? name, AgentOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.ServerUrl, UriKind.Absolute, out var server) || server.Scheme is not ("http" or "https"))
        {
            errors.Add($"Agent:ServerUrl: '{options.ServerUrl}' is not an http(s) URL (HARNESS_SERVER_URL).");
        }
        if (string.IsNullOrWhiteSpace(options.Name))
        {
            errors.Add("Agent:Name: required (HARNESS_AGENT_NAME).");
        }
        if (string.IsNullOrWhiteSpace(options.StateDir))
        {
            errors.Add("Agent:StateDir: required (HARNESS_AGENT_STATE_DIR).");
        }
        if (options.HeartbeatIntervalSec is <= 0 or > 3600)
        {
            errors.Add($"Agent:HeartbeatIntervalSec: {options.HeartbeatIntervalSec} is out of range (0, 3600].");
        }
        if (options.BackoffInitialSec <= 0 || options.BackoffMaxSec < options.BackoffInitialSec)
        {
            errors.Add("Agent:BackoffInitialSec/BackoffMaxSec: need 0 < initial <= max.");
        }
        if (options.RequestTimeoutSec is <= 0 or > 600)
        {
            errors.Add($"Agent:RequestTimeoutSec: {options.RequestTimeoutSec} is out of range (0, 600].");
        }
        if (options.Capacity < 0)
        {
            errors.Add("Agent:Capacity: must not be negative.");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
