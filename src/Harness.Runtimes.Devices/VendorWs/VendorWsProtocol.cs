using System.Buffers;
using System.Text.Json;

namespace Harness.Runtimes.Devices.VendorWs;

/// <summary>
/// The vendor WebSocket protocol (docs/devices.md): JSON text frames, requests
/// <c>{"id","cmd","serial","args"}</c>, replies <c>{"id","ok","result"}</c> or
/// <c>{"id","ok":false,"error":{"code","message"}}</c>, matched by id, in any order.
/// </summary>
public static class VendorWsProtocol
{
    public const int Version = 1;

    public static class Commands
    {
        public const string Hello = "hello";
        public const string List = "list";
        public const string Ping = "ping";
        public const string Shell = "shell";
        public const string Tap = "tap";
        public const string Swipe = "swipe";
        public const string Text = "text";
        public const string Key = "key";
        public const string Launch = "launch";
        public const string OpenUrl = "open_url";
        public const string Screenshot = "screenshot";
        public const string Reboot = "reboot";
        public const string EmulatorStart = "emulator_start";
        public const string EmulatorRestart = "emulator_restart";

        /// <summary><c>{"args":{"id":N}}</c>: the client gave up on request N; it gets no reply.</summary>
        public const string Cancel = "cancel";
    }

    public static class ErrorCodes
    {
        public const string Offline = "offline";
        public const string Unresponsive = "unresponsive";
        public const string Failed = "failed";
        public const string NotFound = "not_found";
        public const string BadRequest = "bad_request";
    }

    /// <summary>The error code a server answers for a device failure.</summary>
    public static string ErrorCodeOf(DeviceErrorKind kind) => kind switch
    {
        DeviceErrorKind.Unavailable => ErrorCodes.Offline,
        DeviceErrorKind.NotFound => ErrorCodes.NotFound,
        _ => ErrorCodes.Failed,
    };

    /// <summary>How the adapter reads an error code; unknown codes count as the step failing.</summary>
    public static DeviceErrorKind KindOf(string? code) => code switch
    {
        ErrorCodes.Offline or ErrorCodes.Unresponsive => DeviceErrorKind.Unavailable,
        ErrorCodes.NotFound => DeviceErrorKind.NotFound,
        _ => DeviceErrorKind.Failed,
    };

    public static byte[] WriteRequest(long id, string cmd, string? serial, Action<Utf8JsonWriter>? writeArgs)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteString("cmd", cmd);
            if (serial is not null)
            {
                json.WriteString("serial", serial);
            }
            json.WriteStartObject("args");
            writeArgs?.Invoke(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] WriteResult(long id, Action<Utf8JsonWriter>? writeResult)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("id", id);
            json.WriteBoolean("ok", true);
            json.WriteStartObject("result");
            writeResult?.Invoke(json);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] WriteError(long? id, string code, string message)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            if (id is { } value)
            {
                json.WriteNumber("id", value);
            }
            else
            {
                json.WriteNull("id");
            }
            json.WriteBoolean("ok", false);
            json.WriteStartObject("error");
            json.WriteString("code", code);
            json.WriteString("message", message);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
