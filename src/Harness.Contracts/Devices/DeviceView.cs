namespace Harness.Contracts.Devices;

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
    string? LastErrorMessage);

/// <summary><c>PATCH /api/devices/{deviceId}</c>: an operator renumbers or relabels a device.</summary>
public sealed record UpdateDeviceRequest(int? IndexNo = null, string? Label = null);
