using System.Text.Json;
using Harness.Contracts.Nodes;

namespace Harness.Runtimes.Devices.VendorWs;

/// <summary>Reads and writes the device objects of a <c>list</c> result.</summary>
public static class VendorWsDevices
{
    public static DeviceInfo Read(JsonElement device)
    {
        var serial = String(device, "serial") ?? throw new DeviceException(DeviceErrorKind.Failed, "The vendor service listed a device without a serial.");
        return new DeviceInfo(
            String(device, "device_id") ?? serial,
            serial,
            String(device, "model"),
            StateOf(String(device, "state")),
            device.TryGetProperty("emulator", out var emulator) && emulator.ValueKind == JsonValueKind.True,
            String(device, "error"));
    }

    public static void Write(Utf8JsonWriter json, DeviceInfo device)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(device);
        json.WriteStartObject();
        json.WriteString("serial", device.Handle);
        json.WriteString("device_id", device.DeviceId);
        json.WriteString("model", device.Model);
        json.WriteString("state", NameOf(device.State));
        json.WriteBoolean("emulator", device.IsEmulator);
        if (device.Error is not null)
        {
            json.WriteString("error", device.Error);
        }
        json.WriteEndObject();
    }

    public static string NameOf(DeviceState state) => state switch
    {
        DeviceState.Ready => "ready",
        DeviceState.Busy => "busy",
        DeviceState.Booting => "booting",
        DeviceState.Unauthorized => "unauthorized",
        DeviceState.Offline => "offline",
        _ => "error",
    };

    private static DeviceState StateOf(string? name) => name switch
    {
        "ready" or "online" or "device" => DeviceState.Ready,
        "busy" => DeviceState.Busy,
        "booting" => DeviceState.Booting,
        "unauthorized" => DeviceState.Unauthorized,
        "offline" => DeviceState.Offline,
        _ => DeviceState.Error,
    };

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
