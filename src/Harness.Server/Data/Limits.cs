namespace Harness.Server.Data;

/// <summary>Column lengths, shared with request validation so a valid request always fits its row.</summary>
public static class Limits
{
    public const int NameLength = 128;
    public const int DeviceIdLength = 128;
    public const int UrlLength = 1024;
    public const int MessageLength = 2048;
    public const int MaxDevicesPerHeartbeat = 5000;
    public const int MaxLabels = 64;
}
