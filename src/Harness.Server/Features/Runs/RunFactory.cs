using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Audit;
using Harness.Server.Features.Dispatch;
using Harness.Server.Features.Playbooks;
using Harness.Server.Features.Workflows;
using Harness.Server.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Runs;

/// <summary>
/// Creates a run: validates it, finds its devices, compiles the workflow per device (variables
/// resolved, playbooks drawn with the run's seed) and queues every online device. Offline and
/// quarantined devices are <c>skipped_offline</c> at once. Nothing is stored unless all of it is valid.
/// </summary>
public sealed partial class RunFactory(HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, DispatchSignal signal)
{
    public const int MaxVars = 100;
    public const int MaxVarLength = 4096;

    public async Task<(RunCreatedResponse? Created, ValidationErrors? Errors)> CreateAsync(CreateRunRequest request, string actor, CancellationToken cancellationToken)
    {
        var errors = Validate(request);
        if (errors.HasErrors)
        {
            return (null, errors);
        }
        var dispatch = options.Value.Dispatch;
        var runId = Guid.NewGuid();
        var vars = request.Vars ?? new Dictionary<string, string>();
        WorkflowDefinition? workflow = null;
        int? version = null;
        (string Name, IReadOnlyList<(PlaybookCompiler.Asset Asset, double Probability)> Items)? playbook = null;
        if (request.WorkflowId is { } workflowId)
        {
            var row = request.Version is { } v
                ? await db.Workflows.AsNoTracking().SingleOrDefaultAsync(w => w.Id == workflowId && w.Version == v, cancellationToken)
                : await db.Workflows.AsNoTracking().Where(w => w.Id == workflowId).OrderByDescending(w => w.Version).FirstOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                errors.Add(request.Version is null ? "workflow_id" : "version",
                    request.Version is null ? $"no workflow '{workflowId}'" : $"workflow '{workflowId}' has no version {request.Version}");
                return (null, errors);
            }
            workflow = WorkflowsApi.Parse(row);
            version = row.Version;
            for (var i = 0; i < workflow.Steps!.Count; i++)
            {
                if (workflow.Steps[i].Type == StepTypes.Exec)
                {
                    errors.Add("workflow_id", $"steps[{i}] is an exec step; exec runs in workspaces and sandboxes, not on devices");
                }
            }
        }
        else
        {
            playbook = await PlaybooksApi.LoadAsync(db, request.PlaybookId!.Value, cancellationToken);
            if (playbook is null)
            {
                errors.Add("playbook_id", $"no playbook '{request.PlaybookId}'");
                return (null, errors);
            }
            vars = PlaybookCompiler.Vars(playbook.Value.Items.Select(i => i.Asset), vars);
        }
        var devices = await RunTargets.ResolveAsync(db, request.Target!, errors, cancellationToken);
        if (errors.HasErrors)
        {
            return (null, errors);
        }

        var now = time.GetUtcNow();
        var onlineSince = now.AddSeconds(-options.Value.OnlineWindowSec);
        var seed = playbook is null ? (long?)null : request.Seed ?? PlaybooksApi.NewSeed();
        var run = new RunEntity
        {
            Id = runId,
            WorkflowId = request.WorkflowId,
            WorkflowVersion = version,
            PlaybookId = request.PlaybookId,
            Seed = seed,
            Target = JsonSerializer.Serialize(request.Target!, RunJson.Default.RunTarget),
            Concurrency = request.Concurrency ?? dispatch.DefaultRunConcurrency,
            Vars = JsonSerializer.Serialize(new Dictionary<string, string>(request.Vars ?? new Dictionary<string, string>()), RunJson.Default.DictionaryStringString),
            Subject = request.Subject,
            StepTimeoutMs = workflow?.Defaults?.StepTimeoutMs ?? dispatch.DefaultStepTimeoutMs,
            UploadTimeoutMs = workflow?.Defaults?.UploadTimeoutMs ?? dispatch.DefaultUploadTimeoutMs,
            Status = RunStatus.Queued,
            CreatedBy = actor,
            CreatedAt = now,
        };
        var states = new List<RunDeviceStateEntity>(devices.Count);
        foreach (var device in devices)
        {
            var compiled = workflow ?? PlaybookCompiler.Compile(playbook!.Value.Name, playbook.Value.Items, seed!.Value, device.DeviceId);
            var context = new WorkflowTemplate.Context(runId, request.Subject, vars, device.DeviceId, device.IndexNo, device.NodeId);
            compiled = WorkflowTemplate.Resolve(compiled, context, errors);
            if (errors.HasErrors)
            {
                return (null, errors); // The first device shows every missing variable; the others would repeat it.
            }
            var state = new RunDeviceStateEntity
            {
                RunId = runId,
                DeviceId = device.DeviceId,
                AgentId = device.AgentId,
                NodeId = device.NodeId,
                Status = DeviceRunStatus.Queued,
                CompiledWorkflow = JsonSerializer.Serialize(compiled, HarnessJsonContext.Default.WorkflowDefinition),
                QueuedAt = now,
                UpdatedAt = now,
            };
            var offline = device.LastSeen is null || device.LastSeen < onlineSince || device.State is "offline" or Nodes.HeartbeatHandler.MissingState;
            if (offline || device.QuarantinedAt is not null)
            {
                state.Status = DeviceRunStatus.SkippedOffline;
                state.FailureReason = offline ? FailureReasons.Offline : FailureReasons.Quarantined;
                state.FinishedAt = now;
            }
            states.Add(state);
        }

        db.Runs.Add(run);
        db.RunDeviceStates.AddRange(states);
        AuditLog.Record(db, now, actor, "run.created", runId.ToString(),
            new { workflow_id = request.WorkflowId, version, playbook_id = request.PlaybookId, seed, devices = states.Count });
        await RunProgress.SaveChangesAsync(db, now, cancellationToken);
        // Only the agents the run queued tasks for have anything new to claim.
        signal.Notify(states.Where(s => s.Status == DeviceRunStatus.Queued && s.AgentId is not null).Select(s => s.AgentId!.Value));

        var counts = RunProgress.Counts(states.GroupBy(s => s.Status).ToDictionary(g => g.Key, g => g.Count()));
        return (new RunCreatedResponse(runId, request.WorkflowId, version, request.PlaybookId, seed, run.Status, counts), null);
    }

    private static ValidationErrors Validate(CreateRunRequest request)
    {
        var errors = new ValidationErrors();
        if ((request.WorkflowId is null) == (request.PlaybookId is null))
        {
            errors.Add("workflow_id", "set exactly one of workflow_id and playbook_id");
        }
        if (request.PlaybookId is not null && request.Version is not null)
        {
            errors.Add("version", "only a workflow run takes a version");
        }
        if (request.WorkflowId is not null && request.Seed is not null)
        {
            errors.Add("seed", "only a playbook run takes a seed");
        }
        errors.Range("version", request.Version, 1, int.MaxValue);
        errors.Range("concurrency", request.Concurrency, 1, 10_000);
        if (request.Seed is < 0)
        {
            errors.Add("seed", "must be zero or positive");
        }
        if (request.Subject is not null && !Subject().IsMatch(request.Subject))
        {
            errors.Add("subject", "use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit (it becomes a folder name)");
        }
        if (request.Vars is { } vars)
        {
            if (vars.Count > MaxVars)
            {
                errors.Add("vars", $"at most {MaxVars} variables");
            }
            foreach (var (name, value) in vars)
            {
                if (!VarName().IsMatch(name))
                {
                    errors.Add($"vars.{name}", "variable names use letters, digits and '_', starting with a letter or '_'");
                }
                else if (value is null)
                {
                    errors.Add($"vars.{name}", "must be a string");
                }
                else
                {
                    errors.MaxLength($"vars.{name}", value, MaxVarLength);
                }
            }
        }
        RunTargets.Validate(request.Target, errors);
        return errors;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex Subject();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex VarName();
}
