using System.Globalization;
using System.Text;

namespace Harness.Server.Features.Artifacts;

/// <summary>The documented layout: <c>{subject}/{node_id}/{device_id}/{run_id}/{timestamp}.{ext}</c>, <c>_</c> for no subject.</summary>
public static class ArtifactPaths
{
    public static string For(string? subject, string nodeId, string deviceId, Guid runId, DateTimeOffset takenAt, string extension, int collision = 0)
    {
        var stamp = takenAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        var suffix = collision == 0 ? "" : $"-{collision}";
        return $"{Segment(subject ?? "_")}/{Segment(nodeId)}/{Segment(deviceId)}/{runId}/{stamp}{suffix}.{extension}";
    }

    public static string Extension(string kind, string? contentType) => contentType switch
    {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "text/plain" => "log",
        "application/json" => "json",
        _ => kind == "screenshot" ? "png" : "bin",
    };

    /// <summary>One safe folder name: anything but letters, digits, '.', '_' and '-' becomes '_', and never '.' or '..'.</summary>
    public static string Segment(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }
        var s = sb.ToString();
        return s is "" or "." or ".." ? "_" : s;
    }
}
