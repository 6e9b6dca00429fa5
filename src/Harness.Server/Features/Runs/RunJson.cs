using System.Text.Json.Serialization;
using Harness.Contracts.Runs;

namespace Harness.Server.Features.Runs;

/// <summary>How runs store their JSON columns.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RunTarget))]
[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class RunJson : JsonSerializerContext;
