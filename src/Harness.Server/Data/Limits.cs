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
    /// <summary>A job's log line; the agent cuts longer output lines (16 KiB characters) before sending.</summary>
    public const int LogLineLength = 16 * 1024;
    /// <summary>A job's sealed secrets (base64 of nonce, tag and ciphertext).</summary>
    public const int SealedSecretsLength = 96 * 1024;
}
