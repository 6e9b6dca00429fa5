using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harness.Server.Features.Scans;

/// <summary>What a scan stores in scan_jobs.result.</summary>
public static class ScanResults
{
    public sealed record Stored(int Found, List<string> Added, List<string> Missing, List<string> DeviceIds);

    public static string Serialize(int found, List<string> added, List<string> missing, List<string> deviceIds) =>
        JsonSerializer.Serialize(new Stored(found, added, missing, deviceIds), ScanJson.Default.Stored);

    public static Stored? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize(json, ScanJson.Default.Stored);

    public sealed record Spec(string NodeId);

    public static string SpecFor(string nodeId) => JsonSerializer.Serialize(new Spec(nodeId), ScanJson.Default.Spec);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(ScanResults.Stored))]
[JsonSerializable(typeof(ScanResults.Spec))]
internal sealed partial class ScanJson : JsonSerializerContext;
