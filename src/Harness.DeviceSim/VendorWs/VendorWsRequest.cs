using System.Globalization;
using System.Text.Json;

namespace Harness.DeviceSim.VendorWs;

/// <summary>One parsed request frame. Argument accessors throw <see cref="FormatException"/>, answered as bad_request.</summary>
internal sealed class VendorWsRequest
{
    private readonly JsonElement _args;

    private VendorWsRequest(long id, string cmd, string? serial, JsonElement args)
    {
        Id = id;
        Cmd = cmd;
        Serial = serial;
        _args = args;
    }

    public long Id { get; }
    public string Cmd { get; }
    public string? Serial { get; }

    public string RequiredSerial => Serial ?? throw new FormatException($"{Cmd}: serial is required.");

    /// <summary>Parses a frame; on failure <paramref name="error"/> says why and <paramref name="id"/> is the id if one was readable.</summary>
    public static VendorWsRequest? TryParse(ReadOnlySpan<byte> frame, out long? id, out string? error)
    {
        id = null;
        try
        {
            var reader = new Utf8JsonReader(frame);
            var root = JsonElement.ParseValue(ref reader);
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = "a request is a JSON object";
                return null;
            }
            if (!root.TryGetProperty("id", out var idElement) || !idElement.TryGetInt64(out var idValue))
            {
                error = "id: required, an integer";
                return null;
            }
            id = idValue;
            if (!root.TryGetProperty("cmd", out var cmd) || cmd.ValueKind != JsonValueKind.String)
            {
                error = "cmd: required, a string";
                return null;
            }
            var serial = root.TryGetProperty("serial", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            var args = root.TryGetProperty("args", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
            error = null;
            return new VendorWsRequest(idValue, cmd.GetString()!, serial, args);
        }
        catch (JsonException ex)
        {
            error = "not JSON: " + ex.Message;
            return null;
        }
    }

    public string String(string name) => OptionalString(name) ?? throw new FormatException($"{Cmd}: args.{name} is required (a string).");

    public string? OptionalString(string name) =>
        _args.ValueKind == JsonValueKind.Object && _args.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public int Int(string name, int? fallback = null)
    {
        if (_args.ValueKind == JsonValueKind.Object && _args.TryGetProperty(name, out var value) && value.TryGetInt32(out var number))
        {
            return number;
        }
        return fallback ?? throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{Cmd}: args.{name} is required (an integer)."));
    }

    public long Long(string name) =>
        _args.ValueKind == JsonValueKind.Object && _args.TryGetProperty(name, out var value) && value.TryGetInt64(out var number)
            ? number
            : throw new FormatException($"{Cmd}: args.{name} is required (an integer).");
}
