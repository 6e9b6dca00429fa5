using System.Text.Json;

namespace Harness.Runtimes.Devices.VendorWs;

/// <summary>One reply frame; <see cref="Result"/> is cloned so it outlives the frame's document.</summary>
internal sealed record VendorWsReply(long Id, bool Ok, JsonElement Result, string? ErrorCode, string? ErrorMessage)
{
    /// <summary>Null when the frame is not a reply we can match to a request.</summary>
    public static VendorWsReply? TryParse(ReadOnlySpan<byte> frame)
    {
        try
        {
            var reader = new Utf8JsonReader(frame);
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("id", out var id) || !id.TryGetInt64(out var idValue)
                || !root.TryGetProperty("ok", out var ok) || ok.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return null;
            }
            if (ok.GetBoolean())
            {
                var result = root.TryGetProperty("result", out var r) ? r.Clone() : default;
                return new VendorWsReply(idValue, true, result, null, null);
            }
            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object ? e : default;
            return new VendorWsReply(idValue, false, default,
                error.ValueKind == JsonValueKind.Object && error.TryGetProperty("code", out var code) ? code.GetString() : null,
                error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var message) ? message.GetString() : null);
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null; // a property of the wrong type
        }
    }
}
