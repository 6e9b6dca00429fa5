using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Docker;

/// <summary>Lists every configuration error at start-up, not only the first.</summary>
internal sealed class DockerRuntimeOptionsValidator : IValidateOptions<DockerRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, DockerRuntimeOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
