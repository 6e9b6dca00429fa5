using System.Net;
using System.Text.Json;
using k8s.Autorest;

namespace Harness.Runtimes.Kubernetes;

/// <summary>
/// Turns what the client throws into <see cref="RuntimeException"/>s, so no
/// <see cref="HttpOperationException"/> leaves the runtime.
/// </summary>
internal static class KubernetesErrors
{
    public static bool Is(Exception exception, HttpStatusCode status) =>
        exception is HttpOperationException { Response: { } response } && response.StatusCode == status;

    public static RuntimeException Translate(Exception exception, string what, CancellationToken cancellationToken)
    {
        switch (exception)
        {
            case RuntimeException runtime:
                return runtime;
            case HttpOperationException { Response: { } response } http:
                var message = $"{what}: {StatusMessage(response.Content) ?? http.Message}";
                return response.StatusCode switch
                {
                    HttpStatusCode.NotFound => new RuntimeException(RuntimeErrorKind.NotFound, message, http),
                    HttpStatusCode.Conflict => new RuntimeException(RuntimeErrorKind.Conflict, message, http),
                    HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => new RuntimeException(RuntimeErrorKind.Invalid, message, http),
                    HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => new RuntimeException(
                        RuntimeErrorKind.Failed, $"{message} (check the agent's ServiceAccount, Role and RoleBinding: deploy/k8s/agent)", http),
                    HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests or HttpStatusCode.GatewayTimeout
                        or HttpStatusCode.BadGateway => new RuntimeException(RuntimeErrorKind.Unavailable, message, http),
                    _ => new RuntimeException(RuntimeErrorKind.Failed, message, http),
                };
            case HttpOperationException other:
                return new RuntimeException(RuntimeErrorKind.Failed, $"{what}: {other.Message}", other);
            case HttpRequestException request:
                return new RuntimeException(RuntimeErrorKind.Unavailable, $"{what}: the Kubernetes API server does not answer: {request.Message}", request);
            case OperationCanceledException timeout when !cancellationToken.IsCancellationRequested:
                return new RuntimeException(RuntimeErrorKind.Unavailable, $"{what}: the Kubernetes API server did not answer in time", timeout);
            case JsonException json:
                return new RuntimeException(RuntimeErrorKind.Failed, $"{what}: the API server's answer could not be read: {json.Message}", json);
            default:
                return new RuntimeException(RuntimeErrorKind.Failed, $"{what}: {exception.Message}", exception);
        }
    }

    /// <summary>Whether <see cref="Translate"/> should handle it (everything but the caller's own cancellation).</summary>
    public static bool Handles(Exception exception, CancellationToken cancellationToken) =>
        exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested;

    /// <summary>The <c>message</c> of a Kubernetes Status object.</summary>
    private static string? StatusMessage(string? content)
    {
        if (string.IsNullOrWhiteSpace(content))
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(content);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("message", out var message)
                && message.ValueKind == JsonValueKind.String
                    ? message.GetString()
                    : null;
        }
        catch (JsonException)
        {
            return content.Length > 200 ? content[..200] : content;
        }
    }
}
