using System.Text.Json;

namespace Harness.Contracts.Workflows;

/// <summary>
/// The workflow DSL (DESIGN.md §5): a named, versioned list of steps. The server validates it on
/// save and stores it unchanged; a run compiles it (variables resolved) per device.
/// </summary>
public sealed record WorkflowDefinition(
    string? Name,
    IReadOnlyList<WorkflowStep>? Steps,
    int? Version = null,
    string? Description = null,
    WorkflowDefaults? Defaults = null);

/// <summary>Defaults every step inherits unless it sets its own.</summary>
public sealed record WorkflowDefaults(
    int? StepTimeoutMs = null,
    int? UploadTimeoutMs = null,
    int? Retries = null);

/// <summary>
/// One step. <see cref="Params"/> depend on <see cref="Type"/> (see <see cref="StepTypes"/>);
/// string values may use <c>{{vars.name}}</c>, <c>{{device.device_id}}</c>, <c>{{device.index_no}}</c>,
/// <c>{{run.id}}</c> and <c>{{run.subject}}</c>, resolved when the run is created.
/// </summary>
public sealed record WorkflowStep(
    string? Id,
    string? Type,
    IReadOnlyDictionary<string, JsonElement>? Params = null,
    int? TimeoutMs = null,
    int? Retries = null,
    string? OnError = null);

public static class StepTypes
{
    public const string Preflight = "preflight";
    public const string LaunchApp = "launch_app";
    public const string OpenUrl = "open_url";
    public const string Tap = "tap";
    public const string Swipe = "swipe";
    public const string InputText = "input_text";
    public const string KeyEvent = "keyevent";
    public const string Wait = "wait";
    public const string Shell = "shell";
    public const string Screenshot = "screenshot";
    public const string Upload = "upload";
    public const string Report = "report";
    public const string Reboot = "reboot";
    /// <summary>Container step: runs a command in a workspace or sandbox (not on devices).</summary>
    public const string Exec = "exec";

    public static readonly IReadOnlyList<string> Device =
        [Preflight, LaunchApp, OpenUrl, Tap, Swipe, InputText, KeyEvent, Wait, Shell, Screenshot, Upload, Report, Reboot];

    public static readonly IReadOnlyList<string> All = [.. Device, Exec];
}

public static class OnError
{
    public const string Fail = "fail";
    public const string Continue = "continue";
}

/// <summary><c>POST /api/workflows</c> → 201.</summary>
public sealed record WorkflowCreatedResponse(Guid WorkflowId, string Name, int Version);

/// <summary>A workflow in <c>GET /api/workflows</c>: its name and latest version.</summary>
public sealed record WorkflowView(
    Guid WorkflowId,
    string Name,
    int LatestVersion,
    string? Description,
    int Steps,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary><c>GET /api/workflows/{id}/versions/{v}</c>: one immutable version.</summary>
public sealed record WorkflowVersionView(
    Guid WorkflowId,
    string Name,
    int Version,
    WorkflowDefinition Definition,
    string? CreatedBy,
    DateTimeOffset CreatedAt);

/// <summary><c>POST /api/command-assets</c> and <c>PUT /api/command-assets/{id}</c>.</summary>
public sealed record CommandAssetRequest(
    string? Name,
    IReadOnlyList<WorkflowStep>? Steps,
    string? Description = null,
    IReadOnlyDictionary<string, JsonElement>? Params = null);

public sealed record CommandAssetView(
    Guid Id,
    string Name,
    string? Description,
    IReadOnlyList<WorkflowStep> Steps,
    IReadOnlyDictionary<string, JsonElement> Params,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary><c>POST /api/playbooks</c>: command assets in order, each kept with a probability in [0,1].</summary>
public sealed record PlaybookRequest(string? Name, IReadOnlyList<PlaybookItem>? Items, string? Description = null);

public sealed record PlaybookItem(Guid? AssetId, double? Probability = null);

public sealed record PlaybookView(
    Guid Id,
    string Name,
    string? Description,
    IReadOnlyList<PlaybookItem> Items,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary><c>POST /api/playbooks/{id}/compile</c>: preview what a device would run for a seed.</summary>
public sealed record PlaybookCompileRequest(long? Seed, string? DeviceId);

public sealed record PlaybookCompileResponse(Guid PlaybookId, long Seed, string DeviceId, WorkflowDefinition Workflow);
