using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Harness.Contracts;

namespace Harness.Client;

internal static class HarnessHttp
{
    public static async Task<TResponse> SendAsync<TRequest, TResponse>(
        HttpClient http, HttpMethod method, string path, TRequest body, string? bearer,
        JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body, requestType) };
        return await SendAsync(http, request, bearer, responseType, cancellationToken);
    }

    /// <summary>A request without a body (GET, or a POST such as <c>/cancel</c> whose path says it all).</summary>
    public static async Task<TResponse> SendAsync<TResponse>(
        HttpClient http, HttpMethod method, string path, string? bearer, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        return await SendAsync(http, request, bearer, responseType, cancellationToken);
    }

    public static Task<TResponse> GetAsync<TResponse>(
        HttpClient http, string path, string? bearer, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken) =>
        SendAsync(http, HttpMethod.Get, path, bearer, responseType, cancellationToken);

    /// <summary>A request whose success carries nothing worth reading (DELETE → 204).</summary>
    public static async Task SendAsync(HttpClient http, HttpMethod method, string path, string? bearer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        Authorize(request, bearer);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
    }

    public static async Task<TResponse> SendAsync<TResponse>(
        HttpClient http, HttpRequestMessage request, string? bearer, JsonTypeInfo<TResponse> responseType, CancellationToken cancellationToken)
    {
        Authorize(request, bearer);
        using var response = await http.SendAsync(request, cancellationToken);
        await EnsureSuccessAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync(responseType, cancellationToken)
            ?? throw new HarnessApiException(response.StatusCode, "Empty response", null);
    }

    public static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        string? title = null, detail = null;
        var errors = new List<string>();
        try
        {
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                title = problem.RootElement.TryGetProperty("title", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                detail = problem.RootElement.TryGetProperty("detail", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
                if (problem.RootElement.TryGetProperty("errors", out var e))
                {
                    ReadErrors(e, errors);
                }
            }
        }
        catch (JsonException)
        {
            // Not problem+json (a proxy's error page, say): the status alone must do.
        }
        // No problem+json (a missing route, a proxy's page): the reason phrase ("Not Found") is the best title there is.
        title ??= response.ReasonPhrase;
        var request = response.RequestMessage is { RequestUri: { } uri } message ? $"{message.Method} {uri.AbsolutePath}" : null;
        throw new HarnessApiException(response.StatusCode, title, detail, errors, request);
    }

    /// <summary>Validation problems list <c>"errors": { "field": ["message", …] }</c>; each becomes <c>field: message</c>.</summary>
    private static void ReadErrors(JsonElement errors, List<string> into)
    {
        if (errors.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in errors.EnumerateObject())
            {
                var messages = field.Value.ValueKind == JsonValueKind.Array ? field.Value.EnumerateArray().ToList() : [field.Value];
                into.AddRange(messages.Select(m => $"{field.Name}: {(m.ValueKind == JsonValueKind.String ? m.GetString() : m.GetRawText())}"));
            }
        }
        else if (errors.ValueKind == JsonValueKind.Array)
        {
            into.AddRange(errors.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m.GetRawText()));
        }
    }

    private static void Authorize(HttpRequestMessage request, string? bearer)
    {
        if (bearer is not null)
        {
            request.Headers.Authorization = new("Bearer", bearer);
        }
    }

    public static HarnessJsonContext Json => HarnessJsonContext.Default;
}
