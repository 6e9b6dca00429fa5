using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using System.Security.Claims;
using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Server.Data.Entities;
using Harness.Server.Features.Agents;
using Harness.Server.Features.Audit;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Devices;

public static class DevicesApi
{
    public static IEndpointRouteBuilder MapDevicesApi(this IEndpointRouteBuilder app)
    {
        var devices = app.MapGroup(Routes.Devices).WithTags("Devices").RequireAuthorization(HarnessAuth.OperatorPolicy);
        devices.MapGet("", List).Produces<List<DeviceView>>()
            .WithSummary("Every device, by index_no. Served from a copy of the fleet a second or two old (a change made through this server shows at once).");
        devices.MapGet("/{deviceId}", Get).WithSummary("One device by device_id.");
        devices.MapPatch("/{deviceId}", Update).RequireAuthorization(HarnessAuth.AdminPolicy)
            .WithSummary("Set a device's index_no or label.");
        devices.MapDelete("/{deviceId}", Delete).RequireAuthorization(HarnessAuth.AdminPolicy)
            .WithSummary("Forget a device, e.g. to move it to another node; it reappears on its node's next heartbeat.");
        return app;
    }

    private static async Task<IResult> List(HarnessDbContext db, FleetSnapshot fleet, HttpContext context, CancellationToken cancellationToken)
    {
        var copy = await fleet.GetAsync(db, cancellationToken);
        return await copy.DevicesBody.ToResultAsync(context);
    }

    /// <summary>Every device by index_no (unnumbered ones last), as read from the database; readers share it through <see cref="FleetSnapshot"/>.</summary>
    internal static IQueryable<DeviceView> ListQuery(HarnessDbContext db, DateTimeOffset onlineSince)
    {
        // Only the listed columns, straight into views: a fleet of 100,000 devices is read every few seconds, and its
        // copy is kept. The values a node's devices share (node, model, state) are kept once per read, not once per
        // device: half the objects a copy keeps alive, and half the work of the collections that move them.
        var shared = new Dictionary<string, string>(StringComparer.Ordinal);
        return db.Devices.AsNoTracking()
            .OrderBy(d => d.IndexNo == null).ThenBy(d => d.IndexNo).ThenBy(d => d.DeviceId)
            .Select(d => View(d.DeviceId, d.RuntimeHandle, d.IndexNo, d.Label, Shared(shared, d.NodeId), Shared(shared, d.Model), Shared(shared, d.State),
                d.LastSeen, d.LastErrorMessage, d.QuarantinedAt, onlineSince));
    }

    [return: NotNullIfNotNull(nameof(value))]
    private static string? Shared(Dictionary<string, string> shared, string? value)
    {
        if (value is null)
        {
            return null;
        }
        ref var kept = ref CollectionsMarshal.GetValueRefOrAddDefault(shared, value, out _);
        return kept ??= value;
    }

    private static async Task<Results<Ok<DeviceView>, ProblemHttpResult>> Get(
        string deviceId, HarnessDbContext db, TimeProvider time, IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        var device = await db.Devices.AsNoTracking().SingleOrDefaultAsync(d => d.DeviceId == deviceId, cancellationToken);
        return device is null
            ? Problems.NotFound($"device_id: no device '{deviceId}'")
            : TypedResults.Ok(ToView(device, AgentsApi.OnlineSince(time, options)));
    }

    private static async Task<Results<Ok<DeviceView>, ValidationProblem, ProblemHttpResult>> Update(
        string deviceId, UpdateDeviceRequest request, HarnessDbContext db, FleetSnapshot fleet, TimeProvider time, IOptions<HarnessServerOptions> options,
        ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new ValidationErrors();
        errors.Range("index_no", request.IndexNo, 1, 1_000_000);
        errors.MaxLength("label", request.Label, Limits.NameLength);
        if (errors.HasErrors)
        {
            return errors.ToProblem();
        }
        var device = await db.Devices.SingleOrDefaultAsync(d => d.DeviceId == deviceId, cancellationToken);
        if (device is null)
        {
            return Problems.NotFound($"device_id: no device '{deviceId}'");
        }
        if (request.IndexNo is { } index && index != device.IndexNo
            && await db.Devices.AnyAsync(d => d.IndexNo == index, cancellationToken))
        {
            return Problems.Conflict("index_no", $"index {index} is taken by another device");
        }
        var now = time.GetUtcNow();
        device.IndexNo = request.IndexNo ?? device.IndexNo;
        device.Label = request.Label ?? device.Label;
        device.UpdatedAt = now;
        AuditLog.Record(db, now, user.Actor(), "device.updated", deviceId, request);
        await db.SaveChangesAsync(cancellationToken);
        fleet.Changed();
        return TypedResults.Ok(ToView(device, AgentsApi.OnlineSince(time, options)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string deviceId, HarnessDbContext db, FleetSnapshot fleet, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var device = await db.Devices.SingleOrDefaultAsync(d => d.DeviceId == deviceId, cancellationToken);
        if (device is null)
        {
            return Problems.NotFound($"device_id: no device '{deviceId}'");
        }
        db.Devices.Remove(device);
        AuditLog.Record(db, time.GetUtcNow(), user.Actor(), "device.deleted", deviceId, new { node_id = device.NodeId });
        await db.SaveChangesAsync(cancellationToken);
        fleet.Changed();
        return TypedResults.NoContent();
    }

    internal static DeviceView ToView(DeviceEntity d, DateTimeOffset onlineSince) =>
        View(d.DeviceId, d.RuntimeHandle, d.IndexNo, d.Label, d.NodeId, d.Model, d.State, d.LastSeen, d.LastErrorMessage, d.QuarantinedAt, onlineSince);

    private static DeviceView View(
        string deviceId, string? runtimeHandle, int? indexNo, string? label, string nodeId, string? model, string? state,
        DateTimeOffset? lastSeen, string? lastErrorMessage, DateTimeOffset? quarantinedAt, DateTimeOffset onlineSince) => new(
        deviceId, runtimeHandle, indexNo, label, nodeId, model, lastSeen >= onlineSince ? OnlineStatus.Online : OnlineStatus.Offline,
        state, lastSeen, lastErrorMessage, quarantinedAt);
}
