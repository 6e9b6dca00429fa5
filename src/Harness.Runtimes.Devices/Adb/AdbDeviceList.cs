using Harness.Contracts.Nodes;

namespace Harness.Runtimes.Devices.Adb;

/// <summary>Parses <c>host:devices-l</c>: <c>serial  state product:… model:… device:… transport_id:…</c> per line.</summary>
internal static class AdbDeviceList
{
    public static IReadOnlyList<DeviceInfo> Parse(string text)
    {
        var devices = new List<DeviceInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2)
            {
                continue;
            }
            var serial = words[0];
            var state = words[1] == "no" && words.Length > 2 && words[2] == "permissions" ? "no permissions" : words[1];
            string? model = null, product = null;
            foreach (var word in words.Skip(2))
            {
                if (word.StartsWith("model:", StringComparison.Ordinal))
                {
                    model = word["model:".Length..];
                }
                else if (word.StartsWith("product:", StringComparison.Ordinal))
                {
                    product = word["product:".Length..];
                }
            }
            var mapped = StateOf(state);
            devices.Add(new DeviceInfo(serial, serial, model, mapped, IsEmulator(serial, product, model),
                mapped == DeviceState.Ready ? null : state));
        }
        return devices;
    }

    public static bool IsEmulator(string serial, string? product, string? model) =>
        serial.StartsWith("emulator-", StringComparison.Ordinal)
        || (product?.StartsWith("sdk_", StringComparison.Ordinal) ?? false)
        || (model?.StartsWith("sdk_", StringComparison.Ordinal) ?? false)
        || (model?.StartsWith("Android_SDK", StringComparison.Ordinal) ?? false);

    private static DeviceState StateOf(string state) => state switch
    {
        "device" => DeviceState.Ready,
        "offline" => DeviceState.Offline,
        "unauthorized" or "no permissions" => DeviceState.Unauthorized,
        "authorizing" or "connecting" or "bootloader" or "recovery" or "rescue" or "sideload" => DeviceState.Booting,
        _ => DeviceState.Error,
    };
}
