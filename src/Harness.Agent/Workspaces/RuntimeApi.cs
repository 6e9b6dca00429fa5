using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Harness.Agent.Listener;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Runtime;
using Harness.Runtimes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Workspaces;

/// <summary>The Runtime Agent API (DESIGN §6) over the agent's <see cref="IWorkspaceRuntime"/>.</summary>
internal static partial class RuntimeApi
{
    public static IEndpointRouteBuilder MapRuntimeApi(this IEndpointRouteBuilder app)
    {
        var instances = app.MapGroup(RuntimeRoutes.Instances).WithTags("Instances");
        instances.MapPost("/{workspace_id}/start", StartInstance).Accepts<InstanceStartRequest>("application/json")
            .WithSummary("Run the workspace's image with its volume mounted; a running instance of the same image is returned as it is.");
        instances.MapDelete("/{workspace_id}", DeleteInstance).WithSummary("Stop and remove the instance; the volume stays.");
        instances.MapGet("/{workspace_id}/status", GetInstance).WithSummary("The instance's state (not_found when there is none).");
        instances.MapGet("/{workspace_id}/upstream", GetUpstream).WithSummary("Where the running instance serves.");
        instances.MapGet("", ListInstances).WithSummary("Every instance this agent manages, optionally by workspace id prefix.");

        var volumes = app.MapGroup(RuntimeRoutes.Volumes).WithTags("Volumes");
        volumes.MapPost("/{workspace_id}", CreateVolume).WithSummary("Create the workspace's volume (200 when it exists already).");
        volumes.MapDelete("/{workspace_id}", DeleteVolume).WithSummary("Delete the volume and its files; 409 while an instance uses it.");
        volumes.MapGet("/{workspace_id}/exists", VolumeExists).WithSummary("Whether the workspace has a volume.");
        volumes.MapGet("", ListVolumes).WithSummary("Every volume this agent manages.");

        var jobs = app.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/archive", Archive).Accepts<ArchiveJobRequest>("application/json")
            .WithSummary("Archive the volume as tar.gz and upload it to the server as archive_id; returns when done.");
        jobs.MapPost("/restore", Restore).Accepts<ArchiveJobRequest>("application/json")
            .WithSummary("Download archive_id from the server and restore it into the volume; 409 while an instance runs.");

        app.MapGet(RuntimeRoutes.Health, Health).WithTags("Health")
            .WithSummary("The agent and its backend: 200 when both answer, 503 when the backend does not.");
        return app;
    }

    private static async Task<Results<Ok<InstanceStatus>, ProblemHttpResult>> StartInstance(
        string workspace_id, HttpContext context, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        var (request, problem) = await ReadAsync(context, HarnessJsonContext.Default.InstanceStartRequest, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        var errors = new Dictionary<string, string[]>();
        var spec = InstanceSpecs.Validate(request, errors);
        if (spec is null)
        {
            return RuntimeProblems.Invalid(errors);
        }
        return await Guard(async () => TypedResults.Ok(await runtime.StartInstanceAsync(workspace_id, spec, cancellationToken)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteInstance(
        string workspace_id, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        return await Guard<NoContent>(async () => await runtime.DeleteInstanceAsync(workspace_id, cancellationToken)
            ? TypedResults.NoContent()
            : RuntimeProblems.Field(StatusCodes.Status404NotFound, "workspace_id", $"workspace {workspace_id} has no instance"));
    }

    private static async Task<Results<Ok<InstanceStatus>, ProblemHttpResult>> GetInstance(
        string workspace_id, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        return await Guard(async () => TypedResults.Ok(await runtime.GetInstanceAsync(workspace_id, cancellationToken)));
    }

    private static async Task<Results<Ok<UpstreamResponse>, ProblemHttpResult>> GetUpstream(
        string workspace_id, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        return await Guard<Ok<UpstreamResponse>>(async () =>
        {
            var status = await runtime.GetInstanceAsync(workspace_id, cancellationToken);
            return status switch
            {
                { State: InstanceState.NotFound } => RuntimeProblems.Field(StatusCodes.Status404NotFound, "workspace_id", $"workspace {workspace_id} has no instance"),
                { State: InstanceState.Running, Upstream: { } url } => TypedResults.Ok(new UpstreamResponse(workspace_id, url)),
                _ => RuntimeProblems.Field(StatusCodes.Status409Conflict, "workspace_id",
                    $"the instance of workspace {workspace_id} is {Json(status.State)}, not running{(status.Message is null ? "" : ": " + status.Message)}"),
            };
        });
    }

    private static async Task<Results<Ok<InstanceList>, ProblemHttpResult>> ListInstances(
        string? prefix, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (prefix is not null && (prefix.Length > WorkspaceIds.MaxLength || !PrefixPattern().IsMatch(prefix)))
        {
            return RuntimeProblems.Field(StatusCodes.Status400BadRequest, "prefix", "must be at most 63 lowercase letters, digits or '-'");
        }
        return await Guard(async () => TypedResults.Ok(new InstanceList(await runtime.ListInstancesAsync(string.IsNullOrEmpty(prefix) ? null : prefix, cancellationToken))));
    }

    private static async Task<Results<Ok<VolumeInfo>, Created<VolumeInfo>, ProblemHttpResult>> CreateVolume(
        string workspace_id, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        try
        {
            if (await runtime.GetVolumeAsync(workspace_id, cancellationToken) is { } existing)
            {
                return TypedResults.Ok(existing);
            }
            return TypedResults.Created(RuntimeRoutes.Volume(workspace_id), await runtime.CreateVolumeAsync(workspace_id, cancellationToken));
        }
        catch (RuntimeException e)
        {
            return RuntimeProblems.From(e);
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteVolume(
        string workspace_id, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        return await Guard<NoContent>(async () => await runtime.DeleteVolumeAsync(workspace_id, cancellationToken)
            ? TypedResults.NoContent()
            : RuntimeProblems.Field(StatusCodes.Status404NotFound, "workspace_id", $"workspace {workspace_id} has no volume"));
    }

    private static async Task<Results<Ok<VolumeExistsResponse>, ProblemHttpResult>> VolumeExists(
        string workspace_id, IWorkspaceRuntime runtime, CancellationToken cancellationToken)
    {
        if (BadId(workspace_id) is { } bad)
        {
            return bad;
        }
        return await Guard(async () => TypedResults.Ok(new VolumeExistsResponse(workspace_id, await runtime.GetVolumeAsync(workspace_id, cancellationToken) is not null)));
    }

    private static Task<Results<Ok<VolumeList>, ProblemHttpResult>> ListVolumes(IWorkspaceRuntime runtime, CancellationToken cancellationToken) =>
        Guard(async () => TypedResults.Ok(new VolumeList(await runtime.ListVolumesAsync(cancellationToken))));

    private static async Task<Results<Ok<ArchiveJobResult>, ProblemHttpResult>> Archive(
        HttpContext context, IWorkspaceRuntime runtime, ArchiveTransfer transfer, CancellationToken cancellationToken)
    {
        var (request, problem) = await ReadJobAsync(context, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        return await Guard(async () => TypedResults.Ok(await transfer.ArchiveAsync(request!.WorkspaceId!, request.ArchiveId!, cancellationToken)));
    }

    private static async Task<Results<Ok<ArchiveJobResult>, ProblemHttpResult>> Restore(
        HttpContext context, IWorkspaceRuntime runtime, ArchiveTransfer transfer, CancellationToken cancellationToken)
    {
        var (request, problem) = await ReadJobAsync(context, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        return await Guard(async () => TypedResults.Ok(await transfer.RestoreAsync(request!.WorkspaceId!, request.ArchiveId!, cancellationToken)));
    }

    private static async Task<Results<Ok<RuntimeHealth>, JsonHttpResult<RuntimeHealth>>> Health(
        IWorkspaceRuntime runtime, IOptions<AgentOptions> agent, IOptions<WorkspacesOptions> workspaces, CancellationToken cancellationToken)
    {
        RuntimeProbe probe;
        var instances = 0;
        try
        {
            probe = await runtime.ProbeAsync(cancellationToken);
            if (probe.Healthy)
            {
                instances = (await runtime.ListInstancesAsync(null, cancellationToken)).Count;
            }
        }
        catch (RuntimeException e)
        {
            probe = new RuntimeProbe(false, e.Message);
        }
        var health = new RuntimeHealth(probe.Healthy ? RuntimeHealthStatus.Ok : RuntimeHealthStatus.Degraded, runtime.Name,
            agent.Value.Name, AgentVersion.Current, instances, workspaces.Value.Capacity, probe.Message);
        return probe.Healthy ? TypedResults.Ok(health) : TypedResults.Json(health, HarnessJsonContext.Default.RuntimeHealth, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<(ArchiveJobRequest? Request, ProblemHttpResult? Problem)> ReadJobAsync(HttpContext context, CancellationToken cancellationToken)
    {
        var (request, problem) = await ReadAsync(context, HarnessJsonContext.Default.ArchiveJobRequest, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }
        var errors = new Dictionary<string, string[]>();
        if (!WorkspaceIds.IsValid(request?.WorkspaceId))
        {
            errors["workspace_id"] = [request?.WorkspaceId is null ? "is required" : WorkspaceIds.Rule];
        }
        if (request?.ArchiveId is not { } archiveId || !ArchiveIdPattern().IsMatch(archiveId))
        {
            errors["archive_id"] = [request?.ArchiveId is null ? "is required" : "must be 1-100 letters, digits, '-' or '_'"];
        }
        return errors.Count > 0 ? (null, RuntimeProblems.Invalid(errors)) : (request, null);
    }

    /// <summary>Reads a JSON body; a malformed one is a 400 naming the JSON path at fault.</summary>
    private static async Task<(T? Value, ProblemHttpResult? Problem)> ReadAsync<T>(HttpContext context, JsonTypeInfo<T> type, CancellationToken cancellationToken)
        where T : class
    {
        if (context.Request.ContentLength == 0)
        {
            return (null, null);
        }
        try
        {
            return (await JsonSerializer.DeserializeAsync(context.Request.Body, type, cancellationToken), null);
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "body" : e.Path.TrimStart('$', '.');
            return (null, RuntimeProblems.Field(StatusCodes.Status400BadRequest, field, "is not valid JSON of the expected type"));
        }
    }

    private static ProblemHttpResult? BadId(string workspaceId) =>
        WorkspaceIds.IsValid(workspaceId) ? null : RuntimeProblems.Field(StatusCodes.Status400BadRequest, "workspace_id", WorkspaceIds.Rule);

    private static async Task<Results<T, ProblemHttpResult>> Guard<T>(Func<Task<Results<T, ProblemHttpResult>>> call) where T : IResult
    {
        try
        {
            return await call();
        }
        catch (RuntimeException e)
        {
            return RuntimeProblems.From(e);
        }
    }

    private static async Task<Results<T, ProblemHttpResult>> Guard<T>(Func<Task<T>> call) where T : IResult
    {
        try
        {
            return await call();
        }
        catch (RuntimeException e)
        {
            return RuntimeProblems.From(e);
        }
    }

    private static string Json(InstanceState state) => JsonSerializer.Serialize(state, HarnessJsonContext.Default.InstanceState).Trim('"');

    [GeneratedRegex("^[a-z0-9-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$", RegexOptions.CultureInvariant)]
    private static partial Regex ArchiveIdPattern();
}
