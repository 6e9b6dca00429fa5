using Harness.Client;
using Harness.Contracts.Workflows;

namespace Harness.Cli.Operator;

/// <summary>A workflow named on the command line: its exact name first, else its id.</summary>
internal static class WorkflowReference
{
    public static async Task<(Guid Id, WorkflowView? View)> ResolveAsync(HarnessApiClient api, string nameOrId, CancellationToken cancellationToken)
    {
        var matches = await api.ListWorkflowsAsync(nameOrId, cancellationToken);
        if (matches.FirstOrDefault(w => string.Equals(w.Name, nameOrId, StringComparison.Ordinal)) is { } byName)
        {
            return (byName.WorkflowId, byName);
        }
        if (Guid.TryParse(nameOrId, out var id))
        {
            return (id, null);
        }
        throw new CliException($"no workflow is named '{nameOrId}'. See `harness workflows list`, or push one with `harness workflows push FILE`.");
    }
}
