namespace Harness.Contracts.Devices;

/// <summary>A device; <c>QuarantinedAt</c> is set while it is out of scheduling for failing its probes.</summary>
public sealed record DeviceView(
    string DeviceId,
    string? RuntimeHandle,
    int? IndexNo,
    string? Label,
    string NodeId,
    string? Model,
    string Status,
    string? State,
    DateTimeOffset? LastSeen,
    string? LastErrorMessage,
    DateTimeOffset? QuarantinedAt = null);

/// <summary><c>PATCH /api/devices/{deviceId}</c>: an operator renumbers or relabels a device.</summary>
public sealed record UpdateDeviceRequest(int? IndexNo = null, string? Label = null);
