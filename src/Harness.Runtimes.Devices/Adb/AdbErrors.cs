namespace Harness.Runtimes.Devices.Adb;

internal static class AdbErrors
{
    /// <summary>Maps an adb server FAIL message to what the scheduler should do about it.</summary>
    public static DeviceException FromFailure(string request, string message)
    {
        var kind = message switch
        {
            _ when message.Contains("not found", StringComparison.OrdinalIgnoreCase) => DeviceErrorKind.NotFound,
            _ when message.Contains("offline", StringComparison.OrdinalIgnoreCase)
                || message.Contains("unauthorized", StringComparison.OrdinalIgnoreCase)
                || message.Contains("authorizing", StringComparison.OrdinalIgnoreCase)
                || message.Contains("connecting", StringComparison.OrdinalIgnoreCase) => DeviceErrorKind.Unavailable,
            _ => DeviceErrorKind.Failed,
        };
        return new DeviceException(kind, $"adb {request}: {message}");
    }
}
