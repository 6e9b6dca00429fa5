using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Docker.DotNet;

namespace Harness.Runtimes.Docker;

/// <summary>Turns what the Engine API client throws into <see cref="RuntimeException"/>s; nothing of Docker.DotNet escapes.</summary>
internal static class DockerErrors
{
    public static RuntimeException Map(Exception exception, string doing) => exception switch
    {
        RuntimeException runtime => runtime,
        DockerApiException { StatusCode: HttpStatusCode.NotFound } api =>
            new(RuntimeErrorKind.NotFound, $"{doing}: {EngineMessage(api)}", api),
        DockerApiException { StatusCode: HttpStatusCode.Conflict } api =>
            new(RuntimeErrorKind.Conflict, $"{doing}: {EngineMessage(api)}", api),
        DockerApiException { StatusCode: HttpStatusCode.BadRequest } api =>
            new(RuntimeErrorKind.Invalid, $"{doing}: {EngineMessage(api)}", api),
        DockerApiException api =>
            new(RuntimeErrorKind.Failed, $"{doing}: the Docker engine answered {(int)api.StatusCode}: {EngineMessage(api)}", api),
        _ when IsUnreachable(exception) =>
            new(RuntimeErrorKind.Unavailable, $"{doing}: the Docker engine does not answer ({Innermost(exception).Message})", exception),
        _ => new(RuntimeErrorKind.Failed, $"{doing}: {exception.Message}", exception),
    };

    /// <summary>The engine's socket is missing, refuses, or the call timed out: the backend is down, not the request wrong.</summary>
    public static bool IsUnreachable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException or HttpRequestException or TimeoutException or DockerConfigurationException
                or OperationCanceledException)
            {
                return true;
            }
        }
        return false;
    }

    public static bool IsNotFound(Exception exception) =>
        exception is DockerApiException { StatusCode: HttpStatusCode.NotFound };

    /// <summary>The engine's own words: its error bodies are <c>{"message": "..."}</c>.</summary>
    public static string EngineMessage(DockerApiException api)
    {
        var body = api.ResponseBody;
        if (string.IsNullOrWhiteSpace(body))
        {
            return api.StatusCode.ToString();
        }
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object
                && json.RootElement.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String)
            {
                return message.GetString()!;
            }
        }
        catch (JsonException)
        {
        }
        return body.Trim();
    }

    private static Exception Innermost(Exception exception)
    {
        var e = exception;
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }
        return e;
    }
}
