using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harness.Contracts;

public static class HarnessJsonOptions
{
    /// <summary>Makes a web app's JSON options speak the wire format of <see cref="HarnessJsonContext"/> (server and agent alike).</summary>
    public static void Configure(JsonSerializerOptions options)
    {
        options.TypeInfoResolverChain.Insert(0, HarnessJsonContext.Default);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
    }
}
