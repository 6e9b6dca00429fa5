using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Harness.Cli.Operator;

/// <summary>--json: the wire format (snake_case, through the shared source-generated context), indented for reading and piping to jq.</summary>
internal static class JsonOutput
{
    public static void Write<T>(TextWriter output, T value, JsonTypeInfo<T> type)
    {
        using var document = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(value, type));
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            document.WriteTo(writer);
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(buffer.ToArray()));
    }
}
