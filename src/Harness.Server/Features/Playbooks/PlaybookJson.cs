using System.Text.Json;
using System.Text.Json.Serialization;
using Harness.Contracts.Workflows;

namespace Harness.Server.Features.Playbooks;

/// <summary>How command assets and playbooks store their JSON columns (the wire's snake_case).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<WorkflowStep>))]
[JsonSerializable(typeof(Dictionary<string, JsonElement>))]
[JsonSerializable(typeof(List<PlaybookItem>))]
internal sealed partial class PlaybookJson : JsonSerializerContext;
