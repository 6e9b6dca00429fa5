using Harness.Contracts.Nodes;
using Harness.Server.Data;
using Harness.Server.Features.Agents;
using Harness.Server.Http;

namespace Harness.Server.Features.Nodes;

internal static class HeartbeatValidation
{
    public static ValidationErrors Validate(HeartbeatRequest request)
    {
        var errors = new ValidationErrors();
        errors.MaxLength("version", request.Version, 64);
        errors.Range("current_load", request.CurrentLoad, 0, AgentFields.MaxCapacity);
        AgentFields.Validate(errors, request.Runtimes, request.Capacity, request.Region, request.Labels, request.Endpoint);
        if (request.Devices is not { } devices)
        {
            return errors;
        }
        if (devices.Count > Limits.MaxDevicesPerHeartbeat)
        {
            errors.Add("devices", $"at most {Limits.MaxDevicesPerHeartbeat} devices per heartbeat");
            return errors;
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < devices.Count; i++)
        {
            var device = devices[i];
            var prefix = $"devices[{i}]";
            if (device is null)
            {
                errors.Add(prefix, "must be an object");
                continue;
            }
            errors.Required($"{prefix}.device_id", device.DeviceId, Limits.DeviceIdLength);
            if (device.DeviceId is { } id && !seen.Add(id))
            {
                errors.Add($"{prefix}.device_id", $"'{id}' appears more than once");
            }
            if (device.DeviceId is { } raw && raw.Any(char.IsControl))
            {
                errors.Add($"{prefix}.device_id", "must not contain control characters");
            }
            errors.MaxLength($"{prefix}.runtime_handle", device.RuntimeHandle, Limits.DeviceIdLength);
            errors.MaxLength($"{prefix}.model", device.Model, Limits.NameLength);
            errors.MaxLength($"{prefix}.label", device.Label, Limits.NameLength);
            errors.MaxLength($"{prefix}.error", device.Error, Limits.MessageLength);
        }
        return errors;
    }
}
